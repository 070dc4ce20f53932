/**
 * The in-memory store drops expired entries as it writes new ones (issue 12 §3): under many
 * one-shot clients it holds the live windows, not its bound's worth of dead counters.
 */
import { describe, expect, it } from "vitest";
import { createMemoryStore } from "./memory-store";

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 10, 29, 12, 0, 0);

/** The n-th distinct client address: 10.0.0.1, 10.0.0.2, … */
const address = (n: number): string => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

function clockedStore(maxEntries: number) {
  let t = T0;
  const store = createMemoryStore({ maxEntries, now: () => t });
  return { store, at: (ms: number) => (t = ms) };
}

describe("memory store: expired entries go as new ones come in", () => {
  it("holds the clients of the live one-minute window, not every client seen", async () => {
    // 100,000 distinct clients, 20,000 a minute for 5 minutes, each counted once in its window
    // (what the embedded rate limiter does); the bound is far above one window's clients.
    const { store, at } = clockedStore(100_000);
    let peak = 0;
    for (let n = 0; n < 100_000; n++) {
      const t = at(T0 + Math.floor((n * 5 * MINUTE) / 100_000));
      const windowStart = Math.floor(t / MINUTE) * MINUTE;
      await store.incrementWithinLimit(`rate-limit:generate:ip:${address(n)}:${windowStart}`, 10, windowStart + MINUTE);
      peak = Math.max(peak, store.sizes().entries);
    }
    // Each window's first write drops the whole previous window: never more than one window held.
    expect(peak).toBe(20_000);
    expect(store.sizes().entries).toBe(20_000);
    // The live window's counters still count.
    expect(await store.counterGet(`rate-limit:generate:ip:${address(99_999)}:${T0 + 4 * MINUTE}`)).toBe(1);
  });

  it("keeps entries until they expire, and drops them on the next write after", async () => {
    const { store, at } = clockedStore(1_000);
    for (let n = 0; n < 500; n++) await store.incrementWithinLimit(`a:${n}`, 5, T0 + MINUTE);
    for (let n = 0; n < 300; n++) await store.incrementWithinLimit(`b:${n}`, 5, T0 + 2 * MINUTE);
    at(T0 + MINUTE - 1);
    await store.incrementWithinLimit("c", 5, T0 + 3 * MINUTE);
    expect(store.sizes().entries).toBe(801);
    at(T0 + MINUTE);
    await store.incrementWithinLimit("c", 5, T0 + 3 * MINUTE);
    expect(store.sizes().entries).toBe(301);
    at(T0 + 2 * MINUTE);
    await store.cacheSet("d", "a caption", 60);
    expect(store.sizes().entries).toBe(2);
    expect(await store.counterGet("c")).toBe(2);
  });

  it("stops at the first live entry: expired entries behind it wait for a read or the bound", async () => {
    const { store, at } = clockedStore(1_000);
    await store.cacheSet("long", "kept an hour", 3600);
    for (let n = 0; n < 100; n++) await store.incrementWithinLimit(`short:${n}`, 5, T0 + MINUTE);
    at(T0 + 2 * MINUTE);
    await store.incrementWithinLimit("new", 5, T0 + 3 * MINUTE);
    expect(store.sizes().entries).toBe(102);
    // A read of an expired entry still finds nothing, and removes it.
    expect(await store.counterGet("short:0")).toBe(0);
    expect(store.sizes().entries).toBe(101);
    expect(await store.cacheGet("long")).toBe("kept an hour");
  });
});
