"use client";

import { useLocale, useTranslations } from "next-intl";
import { useId, useRef, useState, useSyncExternalStore } from "react";
import { getPathname, Link } from "@/i18n/navigation";
import type { HistoryItem } from "@/lib/generation/history";
import { apiFetch } from "@/lib/ui/api-client";
import { clearRecent, recentServerSnapshot, recentSnapshot, subscribeRecent } from "@/lib/ui/recent";
import { useConfirmFocus } from "@/components/use-confirm-focus";
import { useErrorMessage, type UiError } from "@/components/use-error-message";
import { Entry, fromHistory } from "./history-entry";
import styles from "./history.module.css";

type StatusFilter = "" | "complete" | "failed";
const FILTERS: StatusFilter[] = ["", "complete", "failed"];

/** What the list shows: a status (or all), and optionally only the starred ones. */
interface Filter {
  status: StatusFilter;
  favorites: boolean;
}
const NO_FILTER: Filter = { status: "", favorites: false };

interface Page {
  items: HistoryItem[];
  total: number;
}

interface HistoryListProps {
  initialItems: HistoryItem[];
  initialTotal: number;
  pageSize: number;
}

/** A signed-in user's generations: filter, page, copy, star, delete one or all. */
export function HistoryList({ initialItems, initialTotal, pageSize }: HistoryListProps) {
  const t = useTranslations("history");
  const errorMessage = useErrorMessage();
  const id = useId();
  const [page, setPage] = useState<Page>({ items: initialItems, total: initialTotal });
  const [offset, setOffset] = useState(0);
  const [filter, setFilter] = useState<Filter>(NO_FILTER);
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
  const load = async (nextOffset: number, nextFilter: Filter, note = ""): Promise<void> => {
    const seq = ++requestSeq.current;
    setLoading(true);
    setError(null);
    const query = new URLSearchParams({ limit: String(pageSize), offset: String(nextOffset) });
    if (nextFilter.status) query.set("status", nextFilter.status);
    if (nextFilter.favorites) query.set("favorite", "true");
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
      return load(last, nextFilter, note);
    }
    setPage({ items: res.data.items, total: res.data.total });
    setOffset(nextOffset);
    setFilter(nextFilter);
    if (!nextFilter.status && !nextFilter.favorites) setAllTotal(res.data.total);
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
    await load(offset, filter, t("deleted"));
    return true;
  };

  const setFavorite = async (itemId: string, favorite: boolean): Promise<boolean> => {
    setError(null);
    const res = await apiFetch<{ id: string; favorite: boolean }>(`/api/generations/${encodeURIComponent(itemId)}/favorite`, {
      method: favorite ? "POST" : "DELETE",
    });
    if (!res.ok) {
      setError({ code: res.code, retryAfterSeconds: res.retryAfterSeconds });
      return false;
    }
    const note = favorite ? t("favorited") : t("unfavorited");
    // Listing favourites only, an unstarred entry leaves the list (as a deleted one does).
    if (filter.favorites && !favorite) {
      list.current?.focus();
      await load(offset, filter, note);
      return true;
    }
    setPage((p) => ({ ...p, items: p.items.map((item) => (item.id === itemId ? { ...item, favorite } : item)) }));
    setMessage(note);
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
    setFilter(NO_FILTER);
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
            value={filter.status}
            disabled={deletingAll}
            onChange={(e) => {
              const next = { ...filter, status: FILTERS.find((f) => f === e.target.value) ?? "" };
              setFilter(next);
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
        <button
          type="button"
          className={`btn btn-sm ${styles.toggle}`}
          aria-pressed={filter.favorites}
          disabled={deletingAll}
          onClick={() => {
            const next = { ...filter, favorites: !filter.favorites };
            setFilter(next);
            void load(0, next);
          }}
          data-testid="favorites-filter"
        >
          <span aria-hidden="true" className={styles.toggleIcon}>
            ★
          </span>
          {t("favorites")}
        </button>
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
          {filter.favorites && !filter.status ? (
            <p style={{ margin: 0 }}>{t("emptyFavorites")}</p>
          ) : filter.status || filter.favorites ? (
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
            <Entry key={item.id} entry={fromHistory(item)} onDelete={deleteOne} onFavorite={setFavorite} />
          ))}
        </ul>
      )}

      {page.total > pageSize ? (
        <nav className="pager" aria-label={t("pagination")}>
          <button type="button" className="btn btn-sm" disabled={loading || offset === 0} onClick={() => void load(Math.max(0, offset - pageSize), filter)}>
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
            onClick={() => void load(offset + pageSize, filter)}
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
                  versions: [{ caption: item.caption, hashtags: item.hashtags, hook: null }],
                  provider: null,
                  createdAt: item.createdAt,
                  favorite: false,
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
