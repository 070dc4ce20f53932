"use client";

import { useLocale, useTranslations } from "next-intl";
import { useCallback, useEffect, useId, useRef, useState, useSyncExternalStore } from "react";
import { Link } from "@/i18n/navigation";
import { apiFetch, postJson } from "@/lib/ui/api-client";
import { generateCaptions, parseKeywords, type GenerateResponse } from "@/lib/ui/generate-client";
import { addRecent, recentServerSnapshot, recentSnapshot, subscribeRecent } from "@/lib/ui/recent";
import { sessionId, track } from "@/lib/ui/track";
import { LANGS, MAX_TEXT_CHARS, MODES, PLATFORMS, type Lang, type Mode, type Platform } from "@/lib/ai/types";
import { useErrorMessage, type UiError } from "@/components/use-error-message";
import { useCountdown } from "@/components/use-countdown";
import { DEFAULT_OPTIONS, StudioControls, type Options } from "./controls";
import { CheckIcon, CopyIcon, RegenerateIcon, StarIcon, ThumbIcon } from "./icons";
import { ImagePicker } from "./image-picker";
import { QuotaMeter, useResetIn, type QuotaView } from "./quota-meter";
import { VariantCard, type Draft } from "./variant-card";
import styles from "./generator.module.css";

/** Each language in its own name, the same in every UI locale. */
const LANG_NAMES: Record<Lang, string> = { en: "English", zh: "中文" };

type Viewer = "guest" | "free" | "pro";

interface Props {
  viewer: Viewer;
  initialQuota: QuotaView;
  demo: boolean;
  /** A signed-in free user's daily captions (USER_DAILY_LIMIT), for the guest's sign-up offer. */
  userLimit: number;
}

/** Counts characters as people do (an emoji is one). */
const charCount = (text: string) => [...text.trim()].length;

const isPlatform = (value: string): value is Platform => (PLATFORMS as readonly string[]).includes(value);

const EMPTY_DRAFT: Draft = { caption: "", hashtags: [], checks: [], finished: false };

const finishedDrafts = (result: GenerateResponse): Draft[] =>
  (result.variants?.length ? result.variants : [{ caption: result.caption, hashtags: result.hashtags, checks: [] }]).map((v) => ({
    ...v,
    finished: true,
  }));

/** Phones see the form first: bring the result into view once it starts arriving. */
function revealOnPhones(element: HTMLElement | null) {
  if (!element || !window.matchMedia("(max-width: 640px)").matches) return;
  const reduce = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  element.scrollIntoView({ behavior: reduce ? "auto" : "smooth", block: "start" });
}

export function Generator({ viewer, initialQuota, demo, userLimit }: Props) {
  const t = useTranslations("generator");
  const te = useTranslations("errors");
  const errorMessage = useErrorMessage();
  const locale = useLocale();
  const id = useId();
  const textRef = useRef<HTMLTextAreaElement>(null);
  const resultRef = useRef<HTMLElement>(null);
  const [text, setText] = useState("");
  const [mode, setMode] = useState<Mode>("standard");
  const [lang, setLang] = useState<Lang>(locale === "zh" ? "zh" : "en");
  const [platform, setPlatform] = useState<Platform | undefined>(undefined);
  const [options, setOptions] = useState<Options>(DEFAULT_OPTIONS);
  const [image, setImage] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [elapsed, setElapsed] = useState(0);
  /** The versions being written, while a request streams. */
  const [stream, setStream] = useState<Draft[] | null>(null);
  const [result, setResult] = useState<GenerateResponse | null>(null);
  const [picked, setPicked] = useState(0);
  const [edits, setEdits] = useState<Record<number, string>>({});
  const [editing, setEditing] = useState(false);
  const [favorite, setFavorite] = useState(false);
  const [error, setError] = useState<UiError | null>(null);
  const [countdown, setCountdown] = useCountdown();
  const [quota, setQuota] = useState(initialQuota);
  const [copied, setCopied] = useState<"caption" | "all" | null>(null);
  const [rated, setRated] = useState<1 | -1 | null>(null);
  const [status, setStatus] = useState("");
  const recent = useSyncExternalStore(subscribeRecent, recentSnapshot, recentServerSnapshot);
  const startedAt = useRef(0);
  const resetIn = useResetIn(quota.resetAt);

  useEffect(() => {
    if (!busy) return;
    const timer = setInterval(() => setElapsed(Math.floor((Date.now() - startedAt.current) / 1000)), 250);
    return () => clearInterval(timer);
  }, [busy]);

  const count = charCount(text);
  const tooLong = count > MAX_TEXT_CHARS;
  const { keywords, problem: keywordProblem } = parseKeywords(options.keywords);
  const outOfQuota = quota.remaining <= 0 || error?.code === "quota_exceeded";
  const canSubmit = count > 0 && !tooLong && keywordProblem === null && !busy && countdown <= 0 && !outOfQuota;

  const refreshQuota = useCallback(async () => {
    const res = await apiFetch<{ quota: QuotaView }>("/api/quota");
    if (res.ok) setQuota(res.data.quota);
  }, []);

  const patchDraft = (index: number, change: (draft: Draft) => Draft) =>
    setStream((drafts) => {
      const next = [...(drafts ?? [])];
      while (next.length <= index) next.push(EMPTY_DRAFT);
      next[index] = change(next[index] ?? EMPTY_DRAFT);
      return next;
    });

  const generate = async (regenerate: boolean) => {
    if (!canSubmit) return;
    track("generate_click", { mode, regenerate });
    setBusy(true);
    setError(null);
    setElapsed(0);
    setStatus("");
    startedAt.current = Date.now();
    setStream(Array.from({ length: options.variants }, () => EMPTY_DRAFT));
    requestAnimationFrame(() => revealOnPhones(resultRef.current));
    const res = await generateCaptions(
      {
        text,
        mode,
        lang,
        platform,
        regenerate,
        variants: options.variants,
        emoji: options.emoji,
        ...(options.length ? { length: options.length } : {}),
        cta: options.cta,
        keywords,
        ...(image ? { image } : {}),
      },
      // Ties the server's generate_success to this tab's funnel session (docs/RUNBOOK.md "Funnel conversion").
      { "x-session-id": sessionId() },
      {
        onDelta: (index, piece) => patchDraft(index, (d) => ({ ...d, caption: d.caption + piece })),
        onVariant: (index, variant) => patchDraft(index, () => ({ ...variant, finished: true })),
      },
    );
    setBusy(false);
    setStream(null);
    if (res.ok) {
      const data = res.data;
      setResult(data);
      setQuota(data.quota);
      setPicked(0);
      setEdits({});
      setEditing(false);
      setFavorite(false);
      setRated(null);
      setCopied(null);
      if (viewer === "guest") {
        addRecent({
          id: data.id,
          text: text.trim().slice(0, 200),
          caption: data.caption,
          hashtags: data.hashtags,
          mode,
          createdAt: new Date().toISOString(),
        });
      }
      return;
    }
    setError({ code: res.code, retryAfterSeconds: res.retryAfterSeconds });
    if ((res.code === "busy" || res.code === "rate_limited" || res.code === "upstream_unavailable") && res.retryAfterSeconds) {
      setCountdown(Math.min(60, Math.ceil(res.retryAfterSeconds)));
    }
    if (res.code === "quota_exceeded") void refreshQuota();
  };

  const drafts = stream ?? (result ? finishedDrafts(result) : null);
  const current = result ? finishedDrafts(result)[picked] : undefined;
  const currentText = current ? (edits[picked] ?? current.caption) : "";

  const copy = async (what: "caption" | "all") => {
    if (!result || !current) return;
    const value = what === "caption" || current.hashtags.length === 0 ? currentText : `${currentText}\n\n${current.hashtags.join(" ")}`;
    try {
      await navigator.clipboard.writeText(value);
      setCopied(what);
      setStatus(t("copied"));
      setTimeout(() => setCopied(null), 2000);
    } catch {
      setCopied(null);
    }
    track(
      what === "caption" ? "copy_caption" : "copy_all",
      { edited: edits[picked] !== undefined && edits[picked] !== current.caption, variantIndex: picked, platform: result.platform ?? "" },
      current.hook,
    );
  };

  const rate = async (rating: 1 | -1) => {
    if (!result) return;
    setRated(rating);
    setStatus(t("feedbackThanks"));
    track(rating === 1 ? "feedback_up" : "feedback_down");
    await postJson("/api/feedback", { generationId: result.id, rating });
  };

  const toggleFavorite = async () => {
    if (!result) return;
    const next = !favorite;
    setFavorite(next);
    const res = await apiFetch(`/api/generations/${encodeURIComponent(result.id)}/favorite`, { method: next ? "POST" : "DELETE" });
    if (res.ok) {
      setStatus(next ? t("favoriteSaved") : t("favoriteRemoved"));
    } else {
      setFavorite(!next);
      setStatus(t("favoriteFailed"));
    }
  };

  const pick = (index: number) => {
    if (index === picked) return;
    setPicked(index);
    setEditing(false);
    setCopied(null);
  };

  const errorText = (e: UiError): string =>
    e.code === "quota_exceeded" ? t("quotaExceeded", { time: resetIn ?? "" }) : errorMessage(e, countdown);

  const retryable = (code: string) => ["busy", "upstream_unavailable", "rate_limited", "network", "internal"].includes(code);

  return (
    <div className={`grid-2 ${styles.studio}`}>
      <form
        className="card stack"
        onSubmit={(e) => {
          e.preventDefault();
          void generate(false);
        }}
        onKeyDown={(e) => {
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            void generate(false);
          }
        }}
      >
        <div>
          <label htmlFor={id}>{t("textLabel")}</label>
          <textarea
            id={id}
            ref={textRef}
            name="text"
            value={text}
            placeholder={t("textPlaceholder")}
            onChange={(e) => setText(e.target.value)}
            aria-describedby={`${id}-count`}
            aria-invalid={tooLong}
          />
          <div className="field-foot" id={`${id}-count`}>
            <span className={tooLong ? "over" : undefined} aria-live="polite">
              {tooLong ? t("tooLong", { max: MAX_TEXT_CHARS }) : ""}
            </span>
            <span className={tooLong ? "over" : undefined} data-testid="char-count">
              {t("charCount", { count, max: MAX_TEXT_CHARS })}
            </span>
          </div>
        </div>

        <fieldset className="segmented">
          <legend>{t("modeLabel")}</legend>
          {MODES.map((m) => (
            <label key={m}>
              <input type="radio" name="mode" value={m} checked={mode === m} onChange={() => setMode(m)} />
              {t(`modes.${m}`)}
              <small>{t(`modes.${m}Hint`)}</small>
            </label>
          ))}
        </fieldset>

        <div className="row">
          <div>
            <label htmlFor={`${id}-lang`}>{t("langLabel")}</label>
            <select id={`${id}-lang`} value={lang} onChange={(e) => setLang(e.target.value === "zh" ? "zh" : "en")}>
              {LANGS.map((l) => (
                <option key={l} value={l}>
                  {LANG_NAMES[l]}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label htmlFor={`${id}-platform`}>{t("platformLabel")}</label>
            <select
              id={`${id}-platform`}
              value={platform ?? ""}
              onChange={(e) => setPlatform(isPlatform(e.target.value) ? e.target.value : undefined)}
            >
              <option value="">{t("platformAny")}</option>
              {PLATFORMS.map((p) => (
                <option key={p} value={p}>
                  {t(`platforms.${p}`)}
                </option>
              ))}
            </select>
          </div>
        </div>

        <StudioControls options={options} platform={platform} keywordProblem={keywordProblem} onChange={setOptions} />

        <ImagePicker isPro={viewer === "pro"} file={image} onChange={setImage} />

        <div className={styles.submit}>
          {outOfQuota ? (
            <QuotaOffer viewer={viewer} resetIn={resetIn} userLimit={userLimit} />
          ) : (
            <>
              <button type="submit" className="btn btn-primary btn-block" disabled={!canSubmit} aria-busy={busy}>
                {busy ? t("generating", { seconds: elapsed }) : t("generate")}
              </button>
              <span className={`kbd ${styles.shortcut}`}>{t("shortcut")}</span>
            </>
          )}
        </div>
        <QuotaMeter quota={quota} />
      </form>

      <section
        ref={resultRef}
        className={`card ${styles.result}`}
        data-state={busy ? "busy" : result ? "result" : "empty"}
        aria-labelledby={`${id}-result`}
        aria-live="polite"
        aria-busy={busy}
      >
        <div className={styles.resultHead}>
          <h2 id={`${id}-result`}>{t("resultTitle")}</h2>
          {!busy && result?.cached ? <span className="tag">{t("fromCache")}</span> : null}
          {!busy && (result ? result.provider === "offline" : demo) ? <span className="tag">{t("demoLabel")}</span> : null}
        </div>

        {error ? (
          <div className="alert" role="alert" data-testid="generate-error" data-code={error.code}>
            <p style={{ margin: 0 }}>{errorText(error)}</p>
            {retryable(error.code) ? (
              <div className="alert-actions">
                <button type="button" className="btn btn-sm" disabled={countdown > 0 || busy} onClick={() => void generate(false)}>
                  {countdown > 0 ? `${te("retryNow")} (${countdown})` : te("retryNow")}
                </button>
              </div>
            ) : null}
          </div>
        ) : null}

        {drafts ? (
          <>
            <fieldset className={styles.cards} data-testid="variants">
              <legend className="sr-only">{t("variantsGroup")}</legend>
              {drafts.map((draft, index) => (
                <VariantCard
                  key={index}
                  index={index}
                  draft={draft}
                  picked={!busy && index === picked}
                  groupName={drafts.length > 1 ? `${id}-variant` : null}
                  onPick={() => pick(index)}
                  edited={busy ? undefined : edits[index]}
                  editing={editing}
                  onEdit={() => setEditing(true)}
                  onEditDone={() => setEditing(false)}
                  onEditChange={(value) => setEdits((all) => ({ ...all, [index]: value }))}
                  onUndo={() => {
                    setEdits(({ [index]: _dropped, ...rest }) => rest);
                    setEditing(false);
                  }}
                />
              ))}
            </fieldset>
            <div className={styles.actions}>
              <button type="button" className={`btn btn-sm ${styles.textBtn}`} disabled={busy} aria-label={copied === "caption" ? t("copied") : t("copyCaption")} onClick={() => void copy("caption")}>
                {copied === "caption" ? <CheckIcon /> : <CopyIcon />}
                <span>{copied === "caption" ? t("copied") : t("copy")}</span>
              </button>
              <button type="button" className={`btn btn-sm ${styles.textBtn}`} disabled={busy} aria-label={copied === "all" ? t("copied") : t("copyAllLabel")} onClick={() => void copy("all")}>
                {copied === "all" ? <CheckIcon /> : <CopyIcon />}
                <span>{copied === "all" ? t("copied") : t("copyAll")}</span>
              </button>
              <button type="button" className={`btn btn-sm ${styles.iconBtn}`} disabled={!canSubmit} aria-label={t("regenerateLabel")} title={t("regenerate")} onClick={() => void generate(true)}>
                <RegenerateIcon />
              </button>
              <button type="button" className={`btn btn-sm ${styles.iconBtn}`} disabled={busy} aria-pressed={rated === 1} aria-label={t("feedbackGood")} title={t("feedbackGood")} onClick={() => void rate(1)}>
                <ThumbIcon />
              </button>
              <button type="button" className={`btn btn-sm ${styles.iconBtn}`} disabled={busy} aria-pressed={rated === -1} aria-label={t("feedbackBad")} title={t("feedbackBad")} onClick={() => void rate(-1)}>
                <ThumbIcon down />
              </button>
              {viewer === "guest" ? (
                <Link className={`btn btn-sm ${styles.iconBtn}`} href="/signin" aria-label={t("favoriteSignIn")} title={t("favoriteSignIn")}>
                  <StarIcon filled={false} />
                </Link>
              ) : (
                <button type="button" className={`btn btn-sm ${styles.iconBtn}`} disabled={busy} aria-pressed={favorite} aria-label={t("favorite")} title={favorite ? t("unfavorite") : t("favorite")} onClick={() => void toggleFavorite()}>
                  <StarIcon filled={favorite} />
                </button>
              )}
            </div>
            <p className={`status-line muted ${styles.status}`} role="status">
              {status}
            </p>
          </>
        ) : (
          <div className={styles.empty}>
            <p className="muted">{t("resultHint")}</p>
            <p className={styles.examplesLabel} id={`${id}-examples`}>
              {t("examplesLabel")}
            </p>
            <ul className={styles.examples} aria-labelledby={`${id}-examples`}>
              {(t.raw("examples") as string[]).map((example) => (
                <li key={example}>
                  <button
                    type="button"
                    className={styles.example}
                    onClick={() => {
                      setText(example);
                      textRef.current?.focus();
                    }}
                  >
                    {example}
                  </button>
                </li>
              ))}
            </ul>
          </div>
        )}
      </section>

      {viewer === "guest" ? (
        <section className="card" aria-labelledby={`${id}-recent`} style={{ gridColumn: "1 / -1" }}>
          <h2 id={`${id}-recent`}>{t("recentTitle")}</h2>
          {recent.length === 0 ? (
            <p className="muted">{t("recentEmpty")}</p>
          ) : (
            <ul className="list" data-testid="recent">
              {recent.map((item) => (
                <li key={item.id}>
                  <strong>{item.caption}</strong> <span className="muted">{item.hashtags.join(" ")}</span>
                </li>
              ))}
            </ul>
          )}
        </section>
      ) : null}
    </div>
  );
}

/** Out of captions: the way to more takes the Generate button's place. */
function QuotaOffer({ viewer, resetIn, userLimit }: { viewer: Viewer; resetIn: string | null; userLimit: number }) {
  const t = useTranslations("generator");
  if (viewer === "pro") {
    return (
      <p className={styles.offerWait} data-testid="quota-offer">
        {t("offerPro", { time: resetIn ?? "" })}
      </p>
    );
  }
  const guest = viewer === "guest";
  return (
    <div className={styles.offer} data-testid="quota-offer">
      <Link
        className="btn btn-primary btn-block"
        href={guest ? "/signin" : "/pricing"}
        onClick={() => track(guest ? "signup" : "upgrade_click")}
      >
        {guest ? t("offerGuest", { limit: userLimit }) : t("offerFree")}
      </Link>
      <span className="kbd">{guest ? t("offerGuestNote") : t("offerFreeNote")}</span>
    </div>
  );
}
