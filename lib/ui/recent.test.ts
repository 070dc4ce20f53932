import { beforeEach, describe, expect, it, vi } from "vitest";
import { addRecent, readRecent, type RecentItem } from "./recent";

const item = (id: string, caption: string, createdAt: string): RecentItem => ({ id, text: "t", caption, hashtags: [], mode: "standard", createdAt });

describe("recent captions on this device", () => {
  beforeEach(() => {
    const store = new Map<string, string>();
    vi.stubGlobal("localStorage", {
      getItem: (key: string) => store.get(key) ?? null,
      setItem: (key: string, value: string) => void store.set(key, value),
      removeItem: (key: string) => void store.delete(key),
    });
  });

  it("lists each generation and each caption text once, newest first", () => {
    addRecent(item("a", "First caption", "2026-11-29T10:00:00.000Z"));
    addRecent(item("b", "Second caption", "2026-11-29T10:01:00.000Z"));
    addRecent(item("a", "First caption", "2026-11-29T10:02:00.000Z")); // the same id again (a cache hit)
    addRecent(item("c", "Second caption ", "2026-11-29T10:03:00.000Z")); // the same caption under a new id
    expect(readRecent().map((r) => r.id)).toEqual(["c", "a"]);
  });

  it("cleans duplicates stored by older versions when reading", () => {
    localStorage.setItem(
      "litstatus.recent",
      JSON.stringify([item("x", "Same", "2026-11-29T09:00:00.000Z"), item("x", "Same", "2026-11-29T09:00:00.000Z"), item("y", "Other", "2026-11-29T11:00:00.000Z")]),
    );
    expect(readRecent().map((r) => r.id)).toEqual(["y", "x"]);
  });
});
