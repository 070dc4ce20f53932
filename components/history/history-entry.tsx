"use client";

import { useFormatter, useTranslations } from "next-intl";
import { useEffect, useState, useSyncExternalStore } from "react";
import type { CaptionVariant, Hook } from "@/lib/ai/types";
import type { HistoryItem } from "@/lib/generation/history";
import { track } from "@/lib/ui/track";
import { useConfirmFocus } from "@/components/use-confirm-focus";
import styles from "./history.module.css";

/** One caption of an entry: a studio variant, or the lone caption of an older row (no hook). */
type VersionView = Pick<CaptionVariant, "caption" | "hashtags"> & { hook: Hook | null };

/** What one row shows, from the account history or the guest's device list. */
export interface EntryView {
  id: string;
  status: "pending" | "complete" | "failed";
  mode: string;
  platform: string | null;
  text: string | null;
  /** The first is the one that was answered on top; empty when no caption was written. */
  versions: VersionView[];
  provider: string | null;
  createdAt: string;
  favorite: boolean;
}

export const fromHistory = (item: HistoryItem): EntryView => ({
  id: item.id,
  status: item.status,
  mode: item.mode,
  platform: item.platform,
  text: item.text,
  versions: item.variants?.length ? item.variants : item.caption ? [{ caption: item.caption, hashtags: item.hashtags ?? [], hook: null }] : [],
  provider: item.provider,
  createdAt: item.createdAt,
  favorite: item.favorite,
});

/**
 * The reader's own time zone once hydrated; undefined on the server and during hydration, where
 * next-intl's configured zone is used so both renders agree.
 */
const noSubscribe = () => () => {};
const browserTimeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;
const serverTimeZone = () => undefined;
function useTimeZone(): string | undefined {
  return useSyncExternalStore(noSubscribe, browserTimeZone, serverTimeZone);
}

/** Enough of a caption to tell entries apart in a button's accessible name. */
function excerpt(caption: string): string {
  const line = caption.replace(/\s+/g, " ").trim();
  return line.length > 40 ? `${line.slice(0, 39).trimEnd()}…` : line;
}

function Hashtags({ tags }: { tags: string[] }) {
  const t = useTranslations("history");
  if (tags.length === 0) return null;
  return (
    <ul className="chips" aria-label={t("hashtagsLabel")}>
      {tags.map((tag, i) => (
        <li key={`${tag}-${i}`} className="chip">
          {tag}
        </li>
      ))}
    </ul>
  );
}

/** The hook a variant opens with, named as the generator names it. */
function HookTag({ hook }: { hook: Hook | null }) {
  const t = useTranslations("history");
  const tg = useTranslations("generator");
  if (!hook) return null;
  return <span className={`tag ${styles.hook}`}>{t("hook", { hook: tg.has(`hooks.${hook}`) ? tg(`hooks.${hook}`) : hook })}</span>;
}

interface EntryProps {
  entry: EntryView;
  onDelete?: (id: string) => Promise<boolean>;
  /** Stars or unstars (signed-in history only); resolves false when it did not happen. */
  onFavorite?: (id: string, favorite: boolean) => Promise<boolean>;
}

export function Entry({ entry, onDelete, onFavorite }: EntryProps) {
  const t = useTranslations("history");
  const tg = useTranslations("generator");
  const format = useFormatter();
  const timeZone = useTimeZone();
  const [copied, setCopied] = useState<{ index: number; ok: boolean } | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [starring, setStarring] = useState(false);
  const { trigger: deleteButton, cancel: cancelButton } = useConfirmFocus(confirming);

  useEffect(() => {
    if (!copied) return;
    const timer = setTimeout(() => setCopied(null), 2000);
    return () => clearTimeout(timer);
  }, [copied]);

  const copy = async (index: number) => {
    const version = entry.versions[index];
    if (!version) return;
    const value = version.hashtags.length > 0 ? `${version.caption}\n\n${version.hashtags.join(" ")}` : version.caption;
    try {
      await navigator.clipboard.writeText(value);
      setCopied({ index, ok: true });
      track("copy_all", { edited: false, variantIndex: index, platform: entry.platform ?? "", from: "history" }, version.hook ?? undefined);
    } catch {
      setCopied({ index, ok: false });
    }
  };

  const remove = async () => {
    if (!onDelete || deleting) return;
    setDeleting(true);
    const ok = await onDelete(entry.id);
    // On success this row unmounts; on failure it stays, with the list's error shown.
    if (!ok) {
      setDeleting(false);
      setConfirming(false);
    }
  };

  const toggleStar = async () => {
    if (!onFavorite || starring) return;
    setStarring(true);
    await onFavorite(entry.id, !entry.favorite);
    setStarring(false);
  };

  const modeLabel = tg.has(`modes.${entry.mode}`) ? tg(`modes.${entry.mode}`) : entry.mode;
  const platformLabel = entry.platform && tg.has(`platforms.${entry.platform}`) ? tg(`platforms.${entry.platform}`) : entry.platform;
  const date = new Date(entry.createdAt);
  const [first, ...others] = entry.versions;
  const copiedOk = (index: number) => copied?.index === index && copied.ok;

  return (
    <li className="card history-item" data-testid="history-item" data-id={entry.id} data-favorite={entry.favorite}>
      <div className={styles.head}>
        <div className="history-meta">
          <time dateTime={entry.createdAt}>{format.dateTime(date, { dateStyle: "medium", timeStyle: "short", timeZone })}</time>
          <span className="tag">{modeLabel}</span>
          {platformLabel ? <span className="tag">{platformLabel}</span> : null}
          {entry.status !== "complete" ? <span className={`tag tag-${entry.status}`}>{t(`status.${entry.status}`)}</span> : null}
          {entry.provider === "offline" ? <span className="tag">{t("demo")}</span> : null}
          {first ? <HookTag hook={first.hook} /> : null}
        </div>
        {onFavorite && first && entry.status === "complete" ? (
          <button
            type="button"
            className={`btn btn-sm ${styles.star}`}
            aria-pressed={entry.favorite}
            aria-label={t("favoriteLabel", { caption: excerpt(first.caption) })}
            title={entry.favorite ? t("unfavoriteTitle") : t("favoriteTitle")}
            disabled={starring}
            onClick={() => void toggleStar()}
            data-testid="favorite-toggle"
          >
            <span aria-hidden="true">{entry.favorite ? "★" : "☆"}</span>
          </button>
        ) : null}
      </div>
      {first ? (
        <p className="result-caption">{first.caption}</p>
      ) : (
        <p className="muted" style={{ margin: 0 }}>
          {entry.status === "pending" ? t("pendingBody") : t("failedBody")}
        </p>
      )}
      {first ? <Hashtags tags={first.hashtags} /> : null}
      {others.length > 0 ? (
        <details className={styles.versions} data-testid="history-versions">
          <summary>{t("moreVersions", { count: others.length })}</summary>
          <ol className={styles.versionList}>
            {others.map((version, i) => {
              const index = i + 1;
              return (
                <li key={index} className={styles.version}>
                  <div className={styles.versionHead}>
                    <span className="tag">{t("version", { n: index + 1 })}</span>
                    <HookTag hook={version.hook} />
                    <button
                      type="button"
                      className="btn btn-sm"
                      onClick={() => void copy(index)}
                      aria-label={copiedOk(index) ? t("copied") : t("copyVersionLabel", { n: index + 1 })}
                    >
                      {copiedOk(index) ? t("copied") : t("copy")}
                    </button>
                  </div>
                  <p className={styles.versionCaption}>{version.caption}</p>
                  <Hashtags tags={version.hashtags} />
                </li>
              );
            })}
          </ol>
        </details>
      ) : null}
      {entry.text ? (
        <p className="history-input">
          <span className="history-input-label">{t("youWrote")}</span> {entry.text}
        </p>
      ) : null}
      <div className="history-actions">
        {first ? (
          <button type="button" className="btn btn-sm" onClick={() => void copy(0)} aria-label={copiedOk(0) ? t("copied") : t("copyLabel")}>
            {copiedOk(0) ? t("copied") : t("copy")}
          </button>
        ) : null}
        {onDelete ? (
          confirming ? (
            <div className="confirm" role="group" aria-label={t("deleteConfirm")}>
              <span className="confirm-text">{t("deleteConfirm")}</span>
              <button type="button" className="btn btn-sm btn-danger" disabled={deleting} aria-busy={deleting} onClick={() => void remove()}>
                {t("deleteYes")}
              </button>
              <button ref={cancelButton} type="button" className="btn btn-sm" disabled={deleting} onClick={() => setConfirming(false)}>
                {t("cancel")}
              </button>
            </div>
          ) : (
            <button ref={deleteButton} type="button" className="btn btn-sm" aria-label={t("deleteLabel")} onClick={() => setConfirming(true)}>
              {t("delete")}
            </button>
          )
        ) : null}
        <span className="muted history-copy-status" role="status">
          {copied && !copied.ok ? t("copyFailed") : ""}
        </span>
      </div>
    </li>
  );
}
