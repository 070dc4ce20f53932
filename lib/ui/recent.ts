/** A guest's last 10 captions, kept in this browser only. */
export interface RecentItem {
  id: string;
  text: string;
  caption: string;
  hashtags: string[];
  mode: string;
  createdAt: string;
}

const KEY = "litstatus.recent";
export const RECENT_LIMIT = 10;

/**
 * Newest first, one entry per generation and per caption text: a cache hit answers with the same
 * caption under the same id, and lists stored by older versions may hold duplicates.
 */
function dedupe(items: RecentItem[]): RecentItem[] {
  const ids = new Set<string>();
  const captions = new Set<string>();
  const sorted = [...items].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  return sorted.filter((item) => {
    const caption = item.caption.trim();
    if (ids.has(item.id) || captions.has(caption)) return false;
    ids.add(item.id);
    captions.add(caption);
    return true;
  });
}

export function readRecent(): RecentItem[] {
  try {
    const parsed = JSON.parse(localStorage.getItem(KEY) ?? "[]") as unknown;
    return Array.isArray(parsed) ? dedupe(parsed as RecentItem[]).slice(0, RECENT_LIMIT) : [];
  } catch {
    return [];
  }
}

const listeners = new Set<() => void>();
let snapshot: { raw: string | null; items: RecentItem[] } = { raw: null, items: [] };
const EMPTY: RecentItem[] = [];

/** For useSyncExternalStore: the same array until the stored list changes. */
export function recentSnapshot(): RecentItem[] {
  let raw: string | null = null;
  try {
    raw = localStorage.getItem(KEY);
  } catch {
    return EMPTY;
  }
  if (raw !== snapshot.raw) snapshot = { raw, items: readRecent() };
  return snapshot.items;
}

export const recentServerSnapshot = (): RecentItem[] => EMPTY;

export function subscribeRecent(listener: () => void): () => void {
  listeners.add(listener);
  window.addEventListener("storage", listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener("storage", listener);
  };
}

export function addRecent(item: RecentItem): RecentItem[] {
  const next = dedupe([item, ...readRecent()]).slice(0, RECENT_LIMIT);
  try {
    localStorage.setItem(KEY, JSON.stringify(next));
  } catch {
    // storage full or disabled: history is a convenience
  }
  for (const listener of listeners) listener();
  return next;
}

export function clearRecent(): void {
  try {
    localStorage.removeItem(KEY);
  } catch {
    // ignore
  }
  for (const listener of listeners) listener();
}
