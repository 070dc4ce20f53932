"use client";

import { useTranslations } from "next-intl";
import { useEffect, useId, useRef } from "react";
import { HOOKS, type CaptionCheck, type Hook } from "@/lib/ai/types";
import styles from "./generator.module.css";

/** A variant as shown: still being written (`finished` false, text only) or finished. */
export interface Draft {
  caption: string;
  hashtags: string[];
  hook?: Hook;
  checks: CaptionCheck[];
  finished: boolean;
}

interface Props {
  index: number;
  draft: Draft;
  /** The picked card is the one the action row acts on; it alone can be edited. */
  picked: boolean;
  /** Several versions: the cards are a radio group. */
  groupName: string | null;
  onPick: () => void;
  /** The picked card's edited text, when the user changed it. */
  edited?: string;
  editing: boolean;
  onEdit: () => void;
  onEditDone: () => void;
  onEditChange: (text: string) => void;
  onUndo: () => void;
}

export function VariantCard(props: Props) {
  const { index, draft, picked, groupName, onPick, edited, editing } = props;
  const t = useTranslations("generator");
  const id = useId();
  const editor = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    if (editing) editor.current?.focus();
  }, [editing]);

  const hookLabel = draft.hook && HOOKS.includes(draft.hook) ? t(`hooks.${draft.hook}`) : null;
  const name = hookLabel ? `${t("variantN", { n: index + 1 })}: ${hookLabel}` : t("variantN", { n: index + 1 });
  const text = edited ?? draft.caption;
  const canEdit = picked && draft.finished;

  return (
    <article
      className={styles.card}
      data-picked={picked || undefined}
      data-testid="variant"
      data-hook={draft.hook}
      aria-labelledby={`${id}-name`}
      // A click anywhere on a card picks it; the radio is the keyboard's way in.
      onClick={groupName ? onPick : undefined}
    >
      <div className={styles.cardHead}>
        {groupName ? (
          <label className={styles.pick}>
            <input type="radio" name={groupName} checked={picked} onChange={onPick} disabled={!draft.finished} />
            <span id={`${id}-name`} className="sr-only">
              {name}
            </span>
          </label>
        ) : (
          <span id={`${id}-name`} className="sr-only">
            {name}
          </span>
        )}
        {hookLabel ? (
          <span className={styles.hook} aria-hidden="true">
            {hookLabel}
          </span>
        ) : (
          <span className={styles.writing} aria-hidden="true">
            {draft.caption ? t("writing") : null}
          </span>
        )}
        {edited !== undefined ? <span className="tag">{t("edited")}</span> : null}
        {canEdit && !editing ? (
          <button
            type="button"
            className={`btn btn-sm ${styles.ghost}`}
            aria-label={t("editLabel")}
            onClick={(e) => {
              e.stopPropagation();
              props.onEdit();
            }}
          >
            <PencilIcon />
            {t("edit")}
          </button>
        ) : null}
      </div>

      {canEdit && editing ? (
        <div className={styles.editor}>
          <label htmlFor={`${id}-edit`} className="sr-only">
            {t("editLabel")}
          </label>
          <textarea
            id={`${id}-edit`}
            ref={editor}
            className={styles.editText}
            value={text}
            onChange={(e) => props.onEditChange(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Escape") props.onEditDone();
            }}
          />
          <div className={styles.editActions}>
            <button type="button" className="btn btn-sm" onClick={props.onEditDone}>
              {t("editDone")}
            </button>
            {edited !== undefined ? (
              <button type="button" className={`btn btn-sm ${styles.ghost}`} onClick={props.onUndo}>
                {t("undoEdit")}
              </button>
            ) : null}
          </div>
        </div>
      ) : draft.caption ? (
        <p className={styles.caption} data-testid={picked ? "caption" : "variant-caption"}>
          {text}
          {draft.finished ? null : <span className={styles.caret} aria-hidden="true" />}
        </p>
      ) : (
        <div className={styles.skeletons} aria-hidden="true">
          <div className="skeleton" style={{ width: "92%" }} />
          <div className="skeleton" style={{ width: "78%" }} />
          <div className="skeleton" style={{ width: "55%" }} />
        </div>
      )}

      {draft.finished ? (
        <>
          {draft.hashtags.length > 0 ? (
            <ul className={styles.tags} aria-label={t("hashtagsLabel")} data-testid={picked ? "hashtags" : undefined}>
              {draft.hashtags.map((tag) => (
                <li key={tag}>{tag}</li>
              ))}
            </ul>
          ) : null}
          {draft.checks.length > 0 ? <Checks checks={draft.checks} /> : null}
        </>
      ) : (
        // The hashtag row and the lint line to come, reserved while the caption is written.
        <div className={styles.reserve} aria-hidden="true">
          <div className="skeleton" style={{ width: "45%" }} />
          <div className="skeleton" style={{ width: "65%" }} />
        </div>
      )}
    </article>
  );
}

/**
 * The platform checks as one lint line (the first warning, or that all pass), expandable to the
 * full list. One line whatever the checks say, so a finished card is as tall as its reservation.
 */
function Checks({ checks }: { checks: CaptionCheck[] }) {
  const t = useTranslations("generator");
  const warns = checks.filter((c) => c.status === "warn");
  const passes = checks.filter((c) => c.status === "pass");
  const [first] = warns;
  return (
    <details className={styles.lint} data-testid="checks" data-warnings={warns.length} onClick={(e) => e.stopPropagation()}>
      <summary aria-label={`${t("checksLabel")}: ${first ? first.message : t("checksPassed", { count: passes.length })}`}>
        {first ? (
          <>
            <span className={styles.warn}>
              <span className={styles.warnIcon} aria-hidden="true">!</span> {first.message}
            </span>
            {warns.length > 1 ? <span className={styles.more}>{t("checksMore", { count: warns.length - 1 })}</span> : null}
            {passes.length > 0 ? <span className={styles.ok}>✓ {passes.length}</span> : null}
          </>
        ) : (
          <span className={styles.ok}>✓ {t("checksPassed", { count: passes.length })}</span>
        )}
      </summary>
      <ul>
        {[...warns, ...passes].map((check) => (
          <li key={check.rule} data-rule={check.rule} data-status={check.status} className={check.status === "warn" ? styles.warn : undefined}>
            <span aria-hidden="true">{check.status === "warn" ? "!" : "✓"}</span> {check.message}
          </li>
        ))}
      </ul>
    </details>
  );
}

function PencilIcon() {
  return (
    <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
      <path d="M4 20h4L19 9l-4-4L4 16v4z" />
      <path d="m13.5 6.5 4 4" />
    </svg>
  );
}
