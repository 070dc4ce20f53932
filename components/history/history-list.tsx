"use client";

import { useFormatter, useLocale, useTranslations } from "next-intl";
import { useEffect, useId, useRef, useState, useSyncExternalStore } from "react";
import { getPathname, Link } from "@/i18n/navigation";
import type { HistoryItem } from "@/lib/generation/history";
import { apiFetch } from "@/lib/ui/api-client";
import { clearRecent, recentServerSnapshot, recentSnapshot, subscribeRecent } from "@/lib/ui/recent";
import { track } from "@/lib/ui/track";
import { useConfirmFocus } from "@/components/use-confirm-focus";
import { useErrorMessage, type UiError } from "@/components/use-error-message";

type StatusFilter = "" | "complete" | "failed";
const FILTERS: StatusFilter[] = ["", "complete", "failed"];

/** What one row shows, from the account history or the guest's device list. */
interface EntryView {
  id: string;
  status: "pending" | "complete" | "failed";
  mode: string;
  platform: string | null;
  text: string | null;
  caption: string | null;
  hashtags: string[];
  provider: string | null;
  createdAt: string;
}

const fromHistory = (item: HistoryItem): EntryView => ({
  id: item.id,
  status: item.status,
  mode: item.mode,
  platform: item.platform,
  text: item.text,
  caption: item.caption,
  hashtags: item.hashtags ?? [],
  provider: item.provider,
  createdAt: item.createdAt,
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

interface EntryProps {
  entry: EntryView;
  onDelete?: (id: string) => Promise<boolean>;
}

function Entry({ entry, onDelete }: EntryProps) {
  const t = useTranslations("history");
  const tg = useTranslations("generator");
  const format = useFormatter();
  const timeZone = useTimeZone();
  const [copied, setCopied] = useState<"ok" | "failed" | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const { trigger: deleteButton, cancel: cancelButton } = useConfirmFocus(confirming);

  useEffect(() => {
    if (!copied) return;
    const timer = setTimeout(() => setCopied(null), 2000);
    return () => clearTimeout(timer);
  }, [copied]);

  const copy = async () => {
    if (!entry.caption) return;
    const value = entry.hashtags.length > 0 ? `${entry.caption}\n\n${entry.hashtags.join(" ")}` : entry.caption;
    try {
      await navigator.clipboard.writeText(value);
      setCopied("ok");
      track("copy_all", { from: "history" });
    } catch {
      setCopied("failed");
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

  const modeLabel = tg.has(`modes.${entry.mode}`) ? tg(`modes.${entry.mode}`) : entry.mode;
  const platformLabel = entry.platform && tg.has(`platforms.${entry.platform}`) ? tg(`platforms.${entry.platform}`) : entry.platform;
  const date = new Date(entry.createdAt);

  return (
    <li className="card history-item" data-testid="history-item" data-id={entry.id}>
      <div className="history-meta">
        <time dateTime={entry.createdAt}>{format.dateTime(date, { dateStyle: "medium", timeStyle: "short", timeZone })}</time>
        <span className="tag">{modeLabel}</span>
        {platformLabel ? <span className="tag">{platformLabel}</span> : null}
        {entry.status !== "complete" ? <span className={`tag tag-${entry.status}`}>{t(`status.${entry.status}`)}</span> : null}
        {entry.provider === "offline" ? <span className="tag">{t("demo")}</span> : null}
      </div>
      {entry.caption ? (
        <p className="result-caption">{entry.caption}</p>
      ) : (
        <p className="muted" style={{ margin: 0 }}>
          {entry.status === "pending" ? t("pendingBody") : t("failedBody")}
        </p>
      )}
      {entry.hashtags.length > 0 ? (
        <ul className="chips" aria-label={t("hashtagsLabel")}>
          {entry.hashtags.map((tag, i) => (
            <li key={`${tag}-${i}`} className="chip">
              {tag}
            </li>
          ))}
        </ul>
      ) : null}
      {entry.text ? (
        <p className="history-input">
          <span className="history-input-label">{t("youWrote")}</span> {entry.text}
        </p>
      ) : null}
      <div className="history-actions">
        {entry.caption ? (
          <button type="button" className="btn btn-sm" onClick={() => void copy()} aria-label={copied === "ok" ? t("copied") : t("copyLabel")}>
            {copied === "ok" ? t("copied") : t("copy")}
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
          {copied === "failed" ? t("copyFailed") : ""}
        </span>
      </div>
    </li>
  );
}

interface Page {
  items: HistoryItem[];
  total: number;
}

interface HistoryListProps {
  initialItems: HistoryItem[];
  initialTotal: number;
  pageSize: number;
}

/** A signed-in user's generations: filter, page, copy, delete one or all. */
export function HistoryList({ initialItems, initialTotal, pageSize }: HistoryListProps) {
  const t = useTranslations("history");
  const errorMessage = useErrorMessage();
  const id = useId();
  const [page, setPage] = useState<Page>({ items: initialItems, total: initialTotal });
  const [offset, setOffset] = useState(0);
  const [status, setStatus] = useState<StatusFilter>("");
  const [allTotal, setAllTotal] = useState(initialTotal);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<UiError | null>(null);
  const [message, setMessage] = useState("");
  const [confirmAll, setConfirmAll] = useState(false);
  const [deletingAll, setDeletingAll] = useState(false);
  const requestSeq = useRef(0);
  const list = useRef<HTMLUListElement>(null);
  const { trigger: deleteAllButton, cancel: cancelAllButton, skipReturn: keepFocusAfterDeleteAll } = useConfirmFocus(confirmAll);

  /** Loads one page; a newer request wins over a slower older one. */
  const load = async (nextOffset: number, nextStatus: StatusFilter, note = ""): Promise<void> => {
    const seq = ++requestSeq.current;
    setLoading(true);
    setError(null);
    const query = new URLSearchParams({ limit: String(pageSize), offset: String(nextOffset) });
    if (nextStatus) query.set("status", nextStatus);
    const res = await apiFetch<Page & { limit: number; offset: number }>(`/api/generations?${query.toString()}`);
    if (seq !== requestSeq.current) return;
    setLoading(false);
    if (!res.ok) {
      setError({ code: res.code, retryAfterSeconds: res.retryAfterSeconds });
      return;
    }
    // A page past the end (after deletions): step back to the last page that has items.
    if (res.data.items.length === 0 && res.data.total > 0 && nextOffset > 0) {
      const last = Math.max(0, Math.floor((res.data.total - 1) / pageSize) * pageSize);
      return load(last, nextStatus, note);
    }
    setPage({ items: res.data.items, total: res.data.total });
    setOffset(nextOffset);
    setStatus(nextStatus);
    if (!nextStatus) setAllTotal(res.data.total);
    setMessage(note);
  };

  const deleteOne = async (itemId: string): Promise<boolean> => {
    setError(null);
    const res = await apiFetch<{ deleted: true }>(`/api/generations/${encodeURIComponent(itemId)}`, { method: "DELETE" });
    // Already gone (another tab) is as good as deleted.
    if (!res.ok && res.code !== "not_found") {
      setError({ code: res.code, retryAfterSeconds: res.retryAfterSeconds });
      return false;
    }
    setPage((p) => ({ items: p.items.filter((item) => item.id !== itemId), total: Math.max(0, p.total - 1) }));
    setAllTotal((n) => Math.max(0, n - 1));
    list.current?.focus();
    await load(offset, status, t("deleted"));
    return true;
  };

  const deleteAll = async () => {
    if (deletingAll) return;
    setDeletingAll(true);
    setError(null);
    const res = await apiFetch<{ deleted: number }>("/api/generations", { method: "DELETE" });
    setDeletingAll(false);
    if (!res.ok) {
      setError({ code: res.code, retryAfterSeconds: res.retryAfterSeconds });
      setConfirmAll(false);
      return;
    }
    requestSeq.current++;
    setLoading(false);
    setPage({ items: [], total: 0 });
    setAllTotal(0);
    setOffset(0);
    setStatus("");
    keepFocusAfterDeleteAll();
    setConfirmAll(false);
    setMessage(t("deletedAll"));
  };

  const errorText = (e: UiError): string => {
    return errorMessage(e);
  };

  const pages = Math.max(1, Math.ceil(page.total / pageSize));
  const current = Math.floor(offset / pageSize) + 1;
  const from = page.total === 0 ? 0 : offset + 1;
  const to = Math.min(page.total, offset + page.items.length);

  return (
    <div className="stack">
      <div className="toolbar">
        <div className="toolbar-field">
          <label htmlFor={`${id}-status`}>{t("filterLabel")}</label>
          <select
            id={`${id}-status`}
            value={status}
            disabled={deletingAll}
            onChange={(e) => {
              const next = FILTERS.find((f) => f === e.target.value) ?? "";
              setStatus(next);
              void load(0, next);
            }}
          >
            {FILTERS.map((f) => (
              <option key={f || "all"} value={f}>
                {t(`filter.${f || "all"}`)}
              </option>
            ))}
          </select>
        </div>
        <p className="toolbar-total" data-testid="history-total">
          {t("total", { total: page.total })}
        </p>
        <div className="toolbar-end">
          {confirmAll ? (
            <div className="confirm" role="group" aria-label={t("deleteAll")}>
              <span className="confirm-text">{t("deleteAllConfirm", { total: allTotal })}</span>
              <button type="button" className="btn btn-sm btn-danger" disabled={deletingAll} aria-busy={deletingAll} onClick={() => void deleteAll()}>
                {t("deleteAllYes")}
              </button>
              <button ref={cancelAllButton} type="button" className="btn btn-sm" disabled={deletingAll} onClick={() => setConfirmAll(false)}>
                {t("cancel")}
              </button>
            </div>
          ) : (
            <button
              ref={deleteAllButton}
              type="button"
              className="btn btn-sm btn-danger"
              disabled={allTotal === 0}
              onClick={() => setConfirmAll(true)}
              data-testid="delete-all"
            >
              {t("deleteAll")}
            </button>
          )}
        </div>
      </div>

      <p className="muted status-line" role="status">
        {loading ? t("loading") : message}
      </p>

      {error ? (
        <div className="alert" role="alert" data-testid="history-error" data-code={error.code}>
          <p style={{ margin: 0 }}>{errorText(error)}</p>
          {error.code === "unauthorized" ? (
            <div className="alert-actions">
              <Link className="btn btn-sm btn-primary" href="/signin">
                {t("signInCta")}
              </Link>
            </div>
          ) : null}
        </div>
      ) : null}

      {page.items.length === 0 && !loading ? (
        <div className="card empty" data-testid="history-empty">
          {status ? (
            <p style={{ margin: 0 }}>{t("emptyFiltered")}</p>
          ) : (
            <>
              <p style={{ margin: 0 }}>{t("empty")}</p>
              <Link className="btn btn-primary" href="/">
                {t("emptyCta")}
              </Link>
            </>
          )}
        </div>
      ) : (
        <ul ref={list} className="list history-list" aria-busy={loading} aria-label={t("title")} tabIndex={-1} data-testid="history-list">
          {page.items.map((item) => (
            <Entry key={item.id} entry={fromHistory(item)} onDelete={deleteOne} />
          ))}
        </ul>
      )}

      {page.total > pageSize ? (
        <nav className="pager" aria-label={t("pagination")}>
          <button type="button" className="btn btn-sm" disabled={loading || offset === 0} onClick={() => void load(Math.max(0, offset - pageSize), status)}>
            {t("prev")}
          </button>
          <span className="pager-text">
            {t("page", { page: current, pages })}
            <span className="muted"> · {t("range", { from, to, total: page.total })}</span>
          </span>
          <button
            type="button"
            className="btn btn-sm"
            disabled={loading || offset + pageSize >= page.total}
            onClick={() => void load(offset + pageSize, status)}
          >
            {t("next")}
          </button>
        </nav>
      ) : null}
    </div>
  );
}

/** A guest's last captions, kept in this browser only, with a nudge to sign in. */
export function GuestHistory() {
  const t = useTranslations("history");
  const locale = useLocale();
  const id = useId();
  const recent = useSyncExternalStore(subscribeRecent, recentSnapshot, recentServerSnapshot);
  const [message, setMessage] = useState("");

  return (
    <div className="stack">
      <section className="stack" aria-labelledby={`${id}-device`}>
        <div className="section-head">
          <h2 id={`${id}-device`}>{t("guestListTitle")}</h2>
          <button
            type="button"
            className="btn btn-sm"
            disabled={recent.length === 0}
            aria-label={t("clearLabel")}
            onClick={() => {
              clearRecent();
              setMessage(t("cleared"));
            }}
            data-testid="clear-recent"
          >
            {t("clear")}
          </button>
        </div>
        <p className="muted status-line" role="status">
          {message}
        </p>
        {recent.length === 0 ? (
          <div className="card empty">
            <p style={{ margin: 0 }}>{t("guestEmpty")}</p>
            <Link className="btn btn-primary" href="/">
              {t("emptyCta")}
            </Link>
          </div>
        ) : (
          <ul className="list history-list" data-testid="recent-list">
            {recent.map((item) => (
              <Entry
                key={item.id}
                entry={{
                  id: item.id,
                  status: "complete",
                  mode: item.mode,
                  platform: null,
                  text: item.text,
                  caption: item.caption,
                  hashtags: item.hashtags,
                  provider: null,
                  createdAt: item.createdAt,
                }}
              />
            ))}
          </ul>
        )}
      </section>
      <section className="card stack" aria-labelledby={`${id}-signin`}>
        <h2 id={`${id}-signin`}>{t("signInTitle")}</h2>
        <p style={{ margin: 0 }}>{t("signInPrompt")}</p>
        <div className="actions">
          <Link className="btn btn-primary" href={{ pathname: "/signin", query: { next: getPathname({ href: "/history", locale }) } }}>
            {t("signInCta")}
          </Link>
        </div>
      </section>
    </div>
  );
}
