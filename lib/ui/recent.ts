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

export function readRecent(): RecentItem[] {
  try {
    const parsed = JSON.parse(localStorage.getItem(KEY) ?? "[]") as unknown;
    return Array.isArray(parsed) ? (parsed as RecentItem[]).slice(0, RECENT_LIMIT) : [];
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
  const next = [item, ...readRecent().filter((r) => r.id !== item.id)].slice(0, RECENT_LIMIT);
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
