"use client";

import { useTranslations } from "next-intl";
import { useId } from "react";
import { ruleFor } from "@/lib/ai/platform-rules";
import { EMOJI_LEVELS, LENGTHS, MAX_KEYWORD_CHARS, MAX_KEYWORDS, MAX_VARIANTS, type EmojiLevel, type Length, type Platform } from "@/lib/ai/types";
import type { KeywordProblem } from "@/lib/ui/generate-client";
import styles from "./generator.module.css";

export interface Options {
  variants: number;
  /** null: the platform's default (it follows the platform when that changes). */
  length: Length | null;
  emoji: EmojiLevel;
  cta: boolean;
  /** What the user typed; parseKeywords (lib/ui/generate-client.ts) turns it into the list sent. */
  keywords: string;
}

export const DEFAULT_OPTIONS: Options = { variants: 1, length: null, emoji: "few", cta: false, keywords: "" };

const VARIANT_COUNTS = Array.from({ length: MAX_VARIANTS }, (_, i) => i + 1);

interface Props {
  options: Options;
  platform: Platform | undefined;
  keywordProblem: KeywordProblem;
  onChange: (next: Options) => void;
}

/** The caption studio's options (PRODUCT §3a): versions, length, emoji, call to action, keywords. */
export function StudioControls({ options, platform, keywordProblem, onChange }: Props) {
  const t = useTranslations("generator");
  const id = useId();
  const set = (patch: Partial<Options>) => onChange({ ...options, ...patch });
  const defaultLength = ruleFor(platform).defaultLength;
  const length = options.length ?? defaultLength;

  return (
    <fieldset className={styles.options}>
      <legend className={styles.optionsLegend}>{t("optionsLabel")}</legend>
      <div className={styles.optionsGrid}>
        <fieldset className={styles.counts}>
          <legend>{t("variantsLabel")}</legend>
          <div className={styles.countsRow}>
            {VARIANT_COUNTS.map((n) => (
              <label key={n}>
                <input
                  type="radio"
                  name={`${id}-variants`}
                  value={n}
                  checked={options.variants === n}
                  onChange={() => set({ variants: n })}
                />
                {n}
              </label>
            ))}
          </div>
        </fieldset>
        <div>
          <label htmlFor={`${id}-length`}>{t("lengthLabel")}</label>
          <select
            id={`${id}-length`}
            value={length}
            onChange={(e) => {
              const next = e.target.value as Length;
              set({ length: next === defaultLength ? null : next });
            }}
          >
            {LENGTHS.map((l) => (
              <option key={l} value={l}>
                {l === defaultLength ? t("lengthDefault", { length: t(`lengths.${l}`) }) : t(`lengths.${l}`)}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={`${id}-emoji`}>{t("emojiLabel")}</label>
          <select id={`${id}-emoji`} value={options.emoji} onChange={(e) => set({ emoji: e.target.value as EmojiLevel })}>
            {EMOJI_LEVELS.map((level) => (
              <option key={level} value={level}>
                {t(`emojiLevels.${level}`)}
              </option>
            ))}
          </select>
        </div>
      </div>
      <div className={styles.optionsRow}>
        <div className={styles.keywords}>
          <label htmlFor={`${id}-keywords`}>{t("keywordsLabel")}</label>
          <input
            id={`${id}-keywords`}
            type="text"
            value={options.keywords}
            placeholder={t("keywordsPlaceholder")}
            autoComplete="off"
            aria-describedby={`${id}-keywords-hint`}
            aria-invalid={keywordProblem !== null}
            onChange={(e) => set({ keywords: e.target.value })}
          />
          <p id={`${id}-keywords-hint`} className={`field-hint ${keywordProblem ? styles.problem : ""}`} aria-live="polite">
            {keywordProblem === "tooMany"
              ? t("keywordsTooMany", { max: MAX_KEYWORDS })
              : keywordProblem === "tooLong"
                ? t("keywordsTooLong", { max: MAX_KEYWORD_CHARS })
                : t("keywordsHint", { max: MAX_KEYWORDS })}
          </p>
        </div>
        <label className={styles.check}>
          <input type="checkbox" checked={options.cta} onChange={(e) => set({ cta: e.target.checked })} />
          {t("ctaLabel")}
        </label>
      </div>
    </fieldset>
  );
}
