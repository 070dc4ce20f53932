/**
 * The store port's contract, run against the memory store (fake clock) and against
 * openTestKv(): the Upstash store through the REST test server when TEST_REDIS_URL is set (real
 * clock, real waits), the memory store on the real clock otherwise.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestKv, TEST_KV_TIMEOUT_MS, type TestKv } from "@/lib/testing/stores-kv";
import { createMemoryStore } from "./memory-store";
import type { KvStore } from "./types";
import { createUpstashStore } from "./upstash-store";

const REAL = Boolean(process.env.TEST_REDIS_URL);

interface Harness {
  kv: KvStore;
  /** Another store on the same backend whose prefix is the harness prefix plus `suffix`. */
  withPrefix(suffix: string): KvStore;
  /** The store's clock (epoch ms), for expire-at arguments. */
  now(): number;
  /** Lets `ms` pass as far as the store can tell. */
  elapse(ms: number): Promise<void>;
  /** Slack on ttl checks: the round trips between reading `now()` and Redis answering. */
  ttlToleranceMs: number;
  close(): Promise<void>;
}

function memoryHarness(): Harness {
  let t = Date.UTC(2030, 0, 1);
  const now = (): number => t;
  return {
    kv: createMemoryStore({ now }),
    withPrefix: (suffix) => createMemoryStore({ prefix: suffix, now }),
    now,
    elapse: async (ms) => {
      t += ms;
    },
    ttlToleranceMs: 0,
    close: async () => {},
  };
}

async function testKvHarness(): Promise<Harness> {
  const testKv: TestKv = await openTestKv();
  const { rest } = testKv;
  return {
    kv: testKv.kv,
    withPrefix: (suffix) =>
      rest
        ? createUpstashStore({ url: rest.url, token: rest.token, prefix: testKv.prefix + suffix, timeoutMs: TEST_KV_TIMEOUT_MS })
        : createMemoryStore({ prefix: testKv.prefix + suffix }),
    now: Date.now,
    elapse: (ms) => sleep(ms),
    ttlToleranceMs: 2000,
    close: () => testKv.cleanup(),
  };
}

function kvContract(name: string, open: () => Promise<Harness>): void {
  describe(name, () => {
    let h: Harness;
    let n = 0;
    /** A fresh key per use: the tests share one store (and, for Redis, one database). */
    const key = (label: string): string => `${label}:${++n}`;

    beforeAll(async () => {
      h = await open();
    });
    afterAll(async () => {
      await h?.close();
    });

    describe("cache", () => {
      it("gets null for a missing key, then what was set; set overwrites", async () => {
        const k = key("cache");
        expect(await h.kv.cacheGet(k)).toBeNull();
        await h.kv.cacheSet(k, "one", 60);
        expect(await h.kv.cacheGet(k)).toBe("one");
        await h.kv.cacheSet(k, "two", 60);
        expect(await h.kv.cacheGet(k)).toBe("two");
      });

      it("returns values as stored: no JSON parsing, unicode intact", async () => {
        for (const value of ["123", '{"a":1}', "true", "null", "", "héllo ✓ 🚀 \n\t\"quoted\""]) {
          const k = key("raw");
          await h.kv.cacheSet(k, value, 60);
          expect(await h.kv.cacheGet(k)).toBe(value);
        }
      });

      it("expires entries after their ttl", async () => {
        const k = key("ttl");
        await h.kv.cacheSet(k, "v", 1);
        expect(await h.kv.cacheGet(k)).toBe("v");
        await h.elapse(1100);
        expect(await h.kv.cacheGet(k)).toBeNull();
      });

      it("deletes, and deleting a missing key is fine", async () => {
        const k = key("del");
        await h.kv.cacheSet(k, "v", 60);
        await h.kv.cacheDelete(k);
        expect(await h.kv.cacheGet(k)).toBeNull();
        await expect(h.kv.cacheDelete(k)).resolves.toBeUndefined();
      });
    });

    describe("counters", () => {
      it("allows exactly `limit` of 200 concurrent increments and expires at expireAtMs", async () => {
        const k = key("quota");
        const expireAtMs = h.now() + 60_000;
        const results = await Promise.all(
          Array.from({ length: 200 }, () => h.kv.incrementWithinLimit(k, 3, expireAtMs)),
        );
        const allowed = results.filter((r) => r.allowed);
        expect(allowed.map((r) => r.count).sort((a, b) => a - b)).toEqual([1, 2, 3]);
        for (const r of results.filter((r) => !r.allowed)) expect(r.count).toBe(3);
        for (const r of results) {
          expect(r.ttlMs).toBeLessThanOrEqual(60_000);
          expect(r.ttlMs).toBeGreaterThanOrEqual(60_000 - h.ttlToleranceMs);
        }
        expect(await h.kv.counterGet(k)).toBe(3);
      });

      it("reports an absent counter as count 0, ttl 0 when the limit is 0", async () => {
        expect(await h.kv.incrementWithinLimit(key("zero"), 0, h.now() + 60_000)).toEqual({
          allowed: false,
          count: 0,
          ttlMs: 0,
        });
      });

      it("refunds down to zero, never below, keeping the first expiry", async () => {
        const k = key("refund");
        const expireAtMs = h.now() + 60_000;
        for (let i = 0; i < 3; i++) await h.kv.incrementWithinLimit(k, 3, expireAtMs);
        const refunds = [];
        for (let i = 0; i < 4; i++) refunds.push(await h.kv.decrementFloorZero(k));
        expect(refunds).toEqual([2, 1, 0, 0]);
        expect(await h.kv.counterGet(k)).toBe(0);
        // The key survived at 0 with its expiry, so a later expire-at is not applied.
        const again = await h.kv.incrementWithinLimit(k, 3, h.now() + 600_000);
        expect(again).toMatchObject({ allowed: true, count: 1 });
        expect(again.ttlMs).toBeLessThanOrEqual(60_000);
        expect(again.ttlMs).toBeGreaterThanOrEqual(60_000 - h.ttlToleranceMs);
      });

      it("refunding a missing counter returns 0 and creates nothing", async () => {
        const k = key("refund-missing");
        expect(await h.kv.decrementFloorZero(k)).toBe(0);
        expect(await h.kv.counterGet(k)).toBe(0);
        expect(await h.kv.incrementWithinLimit(k, 0, h.now() + 60_000)).toMatchObject({ ttlMs: 0 });
      });

      it("counterGet reads without changing", async () => {
        const k = key("get");
        expect(await h.kv.counterGet(k)).toBe(0);
        await h.kv.incrementWithinLimit(k, 10, h.now() + 60_000);
        await h.kv.incrementWithinLimit(k, 10, h.now() + 60_000);
        expect(await h.kv.counterGet(k)).toBe(2);
        expect(await h.kv.counterGet(k)).toBe(2);
      });
    });

    describe("leases", () => {
      it("grants exactly `capacity` of 50 concurrent acquires; release frees a slot", async () => {
        const k = key("lease");
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => h.kv.leaseAcquire(k, `holder-${i}`, 5, 60_000)),
        );
        const winners = results.flatMap((r, i) => (r.acquired ? [`holder-${i}`] : []));
        expect(winners).toHaveLength(5);
        for (const r of results) expect(r.holders).toBeLessThanOrEqual(5);
        expect(await h.kv.leaseCount(k)).toBe(5);

        expect(await h.kv.leaseAcquire(k, "late", 5, 60_000)).toEqual({ acquired: false, holders: 5 });
        await h.kv.leaseRelease(k, winners[0] ?? "");
        expect(await h.kv.leaseCount(k)).toBe(4);
        expect(await h.kv.leaseAcquire(k, "late", 5, 60_000)).toEqual({ acquired: true, holders: 5 });
      });

      it("releasing a holder that has no lease is fine", async () => {
        await expect(h.kv.leaseRelease(key("lease-none"), "nobody")).resolves.toBeUndefined();
      });

      it("re-acquiring as the same holder renews without taking a second slot", async () => {
        const k = key("renew");
        expect(await h.kv.leaseAcquire(k, "a", 1, 400)).toEqual({ acquired: true, holders: 1 });
        await h.elapse(250);
        expect(await h.kv.leaseAcquire(k, "a", 1, 400)).toEqual({ acquired: true, holders: 1 });
        expect(await h.kv.leaseAcquire(k, "b", 1, 400)).toEqual({ acquired: false, holders: 1 });
        await h.elapse(250); // past the first lease's end, within the renewed one
        expect(await h.kv.leaseCount(k)).toBe(1);
      });

      it("reclaims expired leases", async () => {
        const k = key("expire");
        await h.kv.leaseAcquire(k, "a", 2, 200);
        await h.kv.leaseAcquire(k, "b", 2, 200);
        expect(await h.kv.leaseAcquire(k, "c", 2, 200)).toEqual({ acquired: false, holders: 2 });
        await h.elapse(300);
        expect(await h.kv.leaseCount(k)).toBe(0);
        expect(await h.kv.leaseAcquire(k, "c", 2, 200)).toEqual({ acquired: true, holders: 1 });
      });
    });

    it("keeps stores with different prefixes apart", async () => {
      const other = h.withPrefix("other:");
      const k = key("shared");
      await h.kv.cacheSet(k, "mine", 60);
      await other.cacheSet(k, "theirs", 60);
      await h.kv.incrementWithinLimit(k + ":n", 5, h.now() + 60_000);
      await h.kv.leaseAcquire(k + ":l", "a", 5, 60_000);

      expect(await h.kv.cacheGet(k)).toBe("mine");
      expect(await other.cacheGet(k)).toBe("theirs");
      expect(await other.counterGet(k + ":n")).toBe(0);
      expect(await other.leaseCount(k + ":l")).toBe(0);
      await other.cacheDelete(k);
      expect(await h.kv.cacheGet(k)).toBe("mine");
    });

    it("pings", async () => {
      await expect(h.kv.ping()).resolves.toBeUndefined();
    });
  });
}

kvContract("KvStore contract: memory store", async () => memoryHarness());
kvContract(`KvStore contract: openTestKv (${REAL ? "upstash" : "memory"})`, testKvHarness);

describe.skipIf(!REAL)("upstash store: one HTTP round trip per operation", () => {
  let testKv: TestKv;
  const ops: [string, (kv: KvStore) => Promise<unknown>][] = [
    ["cacheGet", (kv) => kv.cacheGet("rt:cache")],
    ["cacheSet", (kv) => kv.cacheSet("rt:cache", "v", 60)],
    ["cacheDelete", (kv) => kv.cacheDelete("rt:cache")],
    ["incrementWithinLimit", (kv) => kv.incrementWithinLimit("rt:counter", 1000, Date.now() + 60_000)],
    ["decrementFloorZero", (kv) => kv.decrementFloorZero("rt:counter")],
    ["counterGet", (kv) => kv.counterGet("rt:counter")],
    ["leaseAcquire", (kv) => kv.leaseAcquire("rt:lease", "a", 5, 60_000)],
    ["leaseRelease", (kv) => kv.leaseRelease("rt:lease", "a")],
    ["leaseCount", (kv) => kv.leaseCount("rt:lease")],
    ["ping", (kv) => kv.ping()],
  ];

  beforeAll(async () => {
    testKv = await openTestKv();
    // Warm-up: the first EVALSHA of a script Redis has not cached yet costs a NOSCRIPT + EVAL.
    for (const [, op] of ops) await op(testKv.kv);
  });
  afterAll(async () => {
    await testKv?.cleanup();
  });

  it.each(ops)("%s", async (_, op) => {
    const rest = testKv.rest;
    if (!rest) throw new Error("expected the Upstash REST test server");
    rest.resetRequestCount();
    await op(testKv.kv);
    expect(rest.requestCount()).toBe(1);
  });
});
