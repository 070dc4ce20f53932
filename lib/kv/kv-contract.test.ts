/**
 * The store port's contract, run against the memory store (fake clock) and against
 * openTestKv(): the Upstash store through the REST test server when TEST_REDIS_URL is set (real
 * clock, real waits), the memory store on the real clock otherwise.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis as IORedis } from "ioredis";
import { openTestKv, TEST_KV_TIMEOUT_MS, type TestKv } from "@/e2e/support/harness/stores-kv";
import type { UpstashRestServer } from "@/e2e/support/upstash-rest-server";
import { runWithRequestStats } from "@/lib/observability/request-stats";
import { createMemoryStore } from "./memory-store";
import type { BlockEntry, KvStore } from "./types";
import { createUpstashStore } from "./upstash-store";

const REAL = Boolean(process.env.TEST_REDIS_URL);

function blockEntry(fields: Partial<BlockEntry> & Pick<BlockEntry, "id" | "expiresAtMs">): BlockEntry {
  return { target: "198.51.100.9", reason: "contract test", createdBy: "admin-1", createdAtMs: 0, ...fields };
}

const byId = (entries: BlockEntry[]): BlockEntry[] => [...entries].sort((x, y) => x.id.localeCompare(y.id));

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

    describe("lease list", () => {
      it("lists live holders with since and expiry; a renewal keeps since; release and expiry remove them", async () => {
        const k = key("list");
        expect(await h.kv.leaseList(k)).toEqual([]);
        const t0 = h.now();
        await h.kv.leaseAcquire(k, "a", 5, 400);
        await h.kv.leaseAcquire(k, "b", 5, 60_000);
        const first = await h.kv.leaseList(k);
        expect(first.map((l) => l.holder)).toEqual(["a", "b"]); // soonest to expire first
        for (const l of first) {
          expect(l.sinceMs).toBeGreaterThanOrEqual(t0 - h.ttlToleranceMs);
          expect(l.sinceMs).toBeLessThanOrEqual(h.now() + h.ttlToleranceMs);
        }
        const a = first[0]!;
        expect(a.expiresAtMs - a.sinceMs).toBe(400);
        await h.elapse(250);
        await h.kv.leaseAcquire(k, "a", 5, 400);
        const renewed = (await h.kv.leaseList(k)).find((l) => l.holder === "a");
        expect(renewed?.sinceMs).toBe(a.sinceMs);
        expect(renewed!.expiresAtMs).toBeGreaterThan(a.expiresAtMs);
        await h.kv.leaseRelease(k, "b");
        expect((await h.kv.leaseList(k)).map((l) => l.holder)).toEqual(["a"]);
        await h.elapse(500);
        expect(await h.kv.leaseList(k)).toEqual([]);
        // A holder that comes back after its lease expired starts a new `since`.
        await h.kv.leaseAcquire(k, "a", 5, 400);
        expect((await h.kv.leaseList(k))[0]!.sinceMs).toBeGreaterThan(a.sinceMs);
      });

      it("shows the lease genAdmit takes, until genSettle releases it", async () => {
        const lease = { key: key("gen-lease"), holder: "gen-1", capacity: 2, leaseMs: 60_000 };
        const breaker = { key: key("breaker"), probeKey: key("probe") };
        const admit = await h.kv.genAdmit({
          cacheKey: key("gen-cache"),
          checkCache: true,
          breakerKey: breaker.key,
          probeKey: breaker.probeKey,
          lease,
          breakerCooldownMs: 30_000,
          probeLeaseMs: 10_000,
        });
        expect(admit).toMatchObject({ outcome: "ok", leaseAcquired: true, holders: 1 });
        expect((await h.kv.leaseList(lease.key)).map((l) => l.holder)).toEqual(["gen-1"]);
        await h.kv.genSettle({
          lease: { key: lease.key, holder: lease.holder },
          breaker: { ...breaker, outcome: "success", threshold: 5, wasProbe: false },
        });
        expect(await h.kv.leaseList(lease.key)).toEqual([]);
        expect(await h.kv.leaseCount(lease.key)).toBe(0);
      });
    });

    describe("blocklist", () => {
      it("adds, lists, replaces by id and removes entries", async () => {
        const store = h.withPrefix(key("bl") + ":");
        const now = h.now();
        const a = blockEntry({ id: "a", target: "203.0.113.7", createdAtMs: now, expiresAtMs: now + 60_000 });
        const b = blockEntry({ id: "b", target: "2001:db8::/32", createdBy: null, createdAtMs: now, expiresAtMs: now + 120_000 });
        expect(await store.blocklistList(now)).toEqual([]);
        await store.blocklistAdd(a);
        await store.blocklistAdd(b);
        expect(byId(await store.blocklistList(now))).toEqual([a, b]);
        const a2 = { ...a, reason: "ré-ason ✓ \"quoted\"" };
        await store.blocklistAdd(a2);
        expect(byId(await store.blocklistList(now))).toEqual([a2, b]);
        expect(await store.blocklistRemove("a")).toBe(true);
        expect(await store.blocklistRemove("a")).toBe(false);
        expect(await store.blocklistRemove("never")).toBe(false);
        expect(await store.blocklistList(now)).toEqual([b]);
      });

      it("lists only entries unexpired at nowMs, and deletes the expired ones", async () => {
        const store = h.withPrefix(key("bl") + ":");
        const now = h.now();
        await store.blocklistAdd(blockEntry({ id: "short", expiresAtMs: now + 1_000 }));
        await store.blocklistAdd(blockEntry({ id: "long", expiresAtMs: now + 60_000 }));
        expect((await store.blocklistList(now + 999)).map((e) => e.id).sort()).toEqual(["long", "short"]);
        expect((await store.blocklistList(now + 1_000)).map((e) => e.id)).toEqual(["long"]);
        // Pruned, not just hidden: an earlier nowMs does not bring it back, and removing it finds nothing.
        expect((await store.blocklistList(now)).map((e) => e.id)).toEqual(["long"]);
        expect(await store.blocklistRemove("short")).toBe(false);
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

    describe("operations console: key scans, breaker writes, cache statistics", () => {
      /** Scans to the end, as the console does. */
      async function scanAll(prefix: string, remove: boolean): Promise<number> {
        let cursor = "0";
        let total = 0;
        do {
          const step = await h.kv.scanKeys(prefix, cursor, remove);
          total += step.count;
          cursor = step.cursor;
        } while (cursor !== "0");
        return total;
      }

      it("counts and deletes the string keys under a prefix only, never lease sets or other prefixes", async () => {
        const p = key("scan") + ":";
        for (let i = 0; i < 25; i++) await h.kv.cacheSet(`${p}c${i}`, "v", 60);
        await h.kv.incrementWithinLimit(`${p}counter`, 5, h.now() + 60_000);
        await h.kv.leaseAcquire(`${p}inflight`, "holder", 5, 60_000);
        const outside = key("scan-outside");
        await h.kv.cacheSet(outside, "keep", 60);
        const other = h.withPrefix("other:");
        await other.cacheSet(`${p}c0`, "theirs", 60);

        expect(await scanAll(p, false)).toBe(26);
        expect(await scanAll(p, true)).toBe(26);
        expect(await scanAll(p, false)).toBe(0);
        expect(await h.kv.cacheGet(`${p}c3`)).toBeNull();
        expect(await h.kv.leaseCount(`${p}inflight`)).toBe(1);
        expect(await h.kv.cacheGet(outside)).toBe("keep");
        expect(await other.cacheGet(`${p}c0`)).toBe("theirs");
      });

      it("treats glob characters in the prefix literally", async () => {
        const p = key("glob") + ":";
        await h.kv.cacheSet(`${p}a`, "v", 60);
        await h.kv.cacheSet(`${p.slice(0, -1)}X:a`, "v", 60);
        expect(await scanAll(`${p.slice(0, -2)}?:`, false)).toBe(0);
        expect(await scanAll(`${p.slice(0, -2)}*`, false)).toBe(0);
        expect(await scanAll(p, false)).toBe(1);
      });

      it("force-opens the breaker for exactly the given time, then lets the probe through; reset closes it", async () => {
        const breakerKey = key("fbreaker");
        const probeKey = key("fprobe");
        const admitInput = (holder: string) => ({
          cacheKey: key("fcache"),
          checkCache: true,
          breakerKey,
          probeKey,
          lease: { key: key("flease"), holder, capacity: 5, leaseMs: 60_000 },
          breakerCooldownMs: 1_000,
          probeLeaseMs: 10_000,
        });
        await h.kv.breakerWrite(breakerKey, "open", { forMs: 3_000, cooldownMs: 1_000 });
        const snapshot = await h.kv.breakerRead(breakerKey);
        expect(snapshot.state).toBe("open");
        expect(snapshot.failures).toBe(0);
        expect(Math.abs(snapshot.openedAtMs + 1_000 - (h.now() + 3_000))).toBeLessThanOrEqual(h.ttlToleranceMs);
        const refused = await h.kv.genAdmit(admitInput("a"));
        expect(refused.outcome).toBe("open");
        if (refused.outcome === "open") {
          expect(refused.retryAfterMs).toBeGreaterThan(3_000 - h.ttlToleranceMs - 1);
          expect(refused.retryAfterMs).toBeLessThanOrEqual(3_000);
        }
        await h.elapse(3_100);
        expect(await h.kv.genAdmit(admitInput("b"))).toMatchObject({ outcome: "ok", probe: true });

        await h.kv.breakerWrite(breakerKey, "closed");
        expect(await h.kv.breakerRead(breakerKey)).toEqual({ state: "closed", failures: 0, openedAtMs: 0 });
        expect(await h.kv.genAdmit(admitInput("c"))).toMatchObject({ outcome: "ok", probe: false });
      });

      it("counts cache hits and misses in genAdmit, only when asked and only for lookups", async () => {
        const stats = { hitsKey: key("hits"), missesKey: key("misses"), expireAtMs: h.now() + 60_000 };
        const cacheKey = key("scache");
        const base = {
          cacheKey,
          breakerKey: key("sbreaker"),
          probeKey: key("sprobe"),
          lease: { key: key("slease"), holder: "h", capacity: 100, leaseMs: 60_000 },
          breakerCooldownMs: 30_000,
          probeLeaseMs: 10_000,
        };
        expect((await h.kv.genAdmit({ ...base, checkCache: true, stats })).outcome).toBe("ok");
        await h.kv.cacheSet(cacheKey, "cached", 60);
        expect((await h.kv.genAdmit({ ...base, checkCache: true, stats })).outcome).toBe("hit");
        expect((await h.kv.genAdmit({ ...base, checkCache: true, stats })).outcome).toBe("hit");
        // regenerate (no lookup) and callers without stats count nothing
        await h.kv.genAdmit({ ...base, checkCache: false, stats });
        await h.kv.genAdmit({ ...base, checkCache: true });
        // refused by an open breaker: not a miss
        await h.kv.breakerWrite(base.breakerKey, "open");
        await h.kv.genAdmit({ ...base, cacheKey: key("scache-other"), checkCache: true, stats });
        expect(await h.kv.counterGet(stats.hitsKey)).toBe(2);
        expect(await h.kv.counterGet(stats.missesKey)).toBe(1);
      });
    });

    describe("hashes and set-if-absent (shared series, alert state)", () => {
      it("hashIncrement adds integer increments per field; hashReadMany reads many hashes in order", async () => {
        const a = key("hash");
        const b = key("hash");
        await h.kv.hashIncrement(a, { req: 2, err: 1 }, 60);
        await h.kv.hashIncrement(a, { req: 3, b4: 1 }, 60);
        await h.kv.hashIncrement(b, { req: -1 }, 60);
        expect(await h.kv.hashReadMany([a, key("absent"), b])).toEqual([{ req: "5", err: "1", b4: "1" }, {}, { req: "-1" }]);
        expect(await h.kv.hashReadMany([])).toEqual([]);
        await expect(h.kv.hashIncrement(a, { req: 1.5 }, 60)).rejects.toThrow();
      });

      it("hashIncrement and hashSet (re)set the hash's TTL", async () => {
        const k = key("hash-ttl");
        await h.kv.hashIncrement(k, { n: 1 }, 1);
        expect(await h.kv.hashReadMany([k])).toEqual([{ n: "1" }]);
        await h.elapse(1300);
        expect(await h.kv.hashReadMany([k])).toEqual([{}]);
        expect(await h.kv.hashSet(k, "f", "v", 1)).toBe(true);
        await h.elapse(1300);
        expect(await h.kv.hashReadMany([k])).toEqual([{}]);
      });

      it("hashSet sets unconditionally, or compares and sets (null: only when the field is absent)", async () => {
        const k = key("cas");
        expect(await h.kv.hashSet(k, "f", "one", 60, null)).toBe(true);
        expect(await h.kv.hashSet(k, "f", "two", 60, null)).toBe(false);
        expect(await h.kv.hashSet(k, "f", "two", 60, "nope")).toBe(false);
        expect(await h.kv.hashSet(k, "f", "two", 60, "one")).toBe(true);
        expect(await h.kv.hashSet(k, "g", "x", 60)).toBe(true);
        expect(await h.kv.hashSet(k, "g", "y", 60)).toBe(true);
        expect(await h.kv.hashReadMany([k])).toEqual([{ f: "two", g: "y" }]);
      });

      it("hashSet with `expected`: exactly one of many concurrent writers wins", async () => {
        const k = key("cas-race");
        await h.kv.hashSet(k, "f", "start", 60);
        const won = await Promise.all(Array.from({ length: 12 }, (_, i) => h.kv.hashSet(k, "f", `w${i}`, 60, "start")));
        expect(won.filter(Boolean)).toHaveLength(1);
        const winner = won.indexOf(true);
        expect(await h.kv.hashReadMany([k])).toEqual([{ f: `w${winner}` }]);
      });

      it("setIfAbsent: exactly one of many concurrent callers sets the key; it expires", async () => {
        const k = key("nx");
        const won = await Promise.all(Array.from({ length: 12 }, (_, i) => h.kv.setIfAbsent(k, `v${i}`, 1)));
        expect(won.filter(Boolean)).toHaveLength(1);
        expect(await h.kv.cacheGet(k)).toBe(`v${won.indexOf(true)}`);
        expect(await h.kv.setIfAbsent(k, "late", 1)).toBe(false);
        await h.elapse(1300);
        expect(await h.kv.setIfAbsent(k, "again", 1)).toBe(true);
      });
    });

    it("pings", async () => {
      await expect(h.kv.ping()).resolves.toBeUndefined();
    });
  });
}

kvContract("KvStore contract: memory store", async () => memoryHarness());
kvContract(`KvStore contract: openTestKv (${REAL ? "upstash" : "memory"})`, testKvHarness);

/** Every port operation once, for the round-trip counts (each must cost exactly one). */
const ROUND_TRIP_OPS: [string, (kv: KvStore) => Promise<unknown>][] = [
  ["cacheGet", (kv) => kv.cacheGet("rt:cache")],
  ["cacheSet", (kv) => kv.cacheSet("rt:cache", "v", 60)],
  ["cacheDelete", (kv) => kv.cacheDelete("rt:cache")],
  ["incrementWithinLimit", (kv) => kv.incrementWithinLimit("rt:counter", 1000, Date.now() + 60_000)],
  ["counterGet", (kv) => kv.counterGet("rt:counter")],
  ["leaseAcquire", (kv) => kv.leaseAcquire("rt:lease", "a", 5, 60_000)],
  ["leaseRelease", (kv) => kv.leaseRelease("rt:lease", "a")],
  ["leaseCount", (kv) => kv.leaseCount("rt:lease")],
  ["leaseList", (kv) => kv.leaseList("rt:lease")],
  [
    "genAdmit",
    (kv) =>
      kv.genAdmit({
        cacheKey: "rt:gen",
        checkCache: true,
        breakerKey: "rt:breaker",
        probeKey: "rt:probe",
        quota: { key: "rt:quota", limit: 1_000_000, expireAtMs: Date.now() + 60_000 },
        lease: { key: "rt:inflight", holder: "g", capacity: 5, leaseMs: 60_000 },
        breakerCooldownMs: 30_000,
        probeLeaseMs: 10_000,
      }),
  ],
  [
    "genSettle",
    (kv) =>
      kv.genSettle({
        lease: { key: "rt:inflight", holder: "g" },
        refundQuotaKey: "rt:quota",
        breaker: { key: "rt:breaker", probeKey: "rt:probe", outcome: "none", threshold: 5, wasProbe: false },
      }),
  ],
  ["breakerRead", (kv) => kv.breakerRead("rt:breaker")],
  ["breakerWrite", (kv) => kv.breakerWrite("rt:breaker", "closed")],
  ["breakerWrite (force-open)", (kv) => kv.breakerWrite("rt:breaker-forced", "open", { forMs: 1000, cooldownMs: 500 })],
  ["scanKeys", (kv) => kv.scanKeys("rt:scan:", "0", false)],
  ["blocklistAdd", (kv) => kv.blocklistAdd(blockEntry({ id: "rt", expiresAtMs: Date.now() + 60_000 }))],
  ["blocklistList", (kv) => kv.blocklistList(Date.now())],
  ["blocklistRemove", (kv) => kv.blocklistRemove("rt")],
  ["hashIncrement", (kv) => kv.hashIncrement("rt:hash", { n: 1 }, 60)],
  ["hashReadMany", (kv) => kv.hashReadMany(["rt:hash", "rt:hash2"])],
  ["hashSet", (kv) => kv.hashSet("rt:hash", "f", "v", 60, null)],
  ["setIfAbsent", (kv) => kv.setIfAbsent("rt:nx", "v", 60)],
  ["ping", (kv) => kv.ping()],
];

/** Runs `work` as a request and returns the kv round trips it counted. */
async function kvTrips(work: () => Promise<unknown>): Promise<number> {
  const run = runWithRequestStats(async () => {
    await work();
  });
  await run.result;
  return run.stats.kvRoundTrips;
}

/** All the operations in a row, one request: the count is their number, so one more op shows. */
const everyOp = (kv: KvStore) => async () => {
  for (const [, op] of ROUND_TRIP_OPS) await op(kv);
};

describe("memory store: each operation counts as one kv round trip", () => {
  const kv = createMemoryStore({ prefix: "rt-memory:" });

  it.each(ROUND_TRIP_OPS)("%s", async (_, op) => {
    expect(await kvTrips(() => op(kv))).toBe(1);
  });

  it("counts a sequence exactly, and nothing outside a request", async () => {
    expect(await kvTrips(everyOp(kv))).toBe(ROUND_TRIP_OPS.length);
    expect(await kvTrips(async () => Promise.all([kv.cacheGet("x"), kv.cacheGet("y"), kv.counterGet("z")]))).toBe(3);
    await expect(kv.cacheGet("outside")).resolves.toBeNull();
  });
});

describe.skipIf(!REAL)("upstash store: one HTTP round trip per operation, counted by the store", () => {
  let testKv: TestKv;
  let rest: UpstashRestServer;

  beforeAll(async () => {
    testKv = await openTestKv();
    if (!testKv.rest) throw new Error("expected the Upstash REST test server");
    rest = testKv.rest;
    // Warm-up: the first EVALSHA of a script Redis has not cached yet costs a NOSCRIPT + EVAL.
    await everyOp(testKv.kv)();
  });
  afterAll(async () => {
    await testKv?.cleanup();
  });

  it.each(ROUND_TRIP_OPS)("%s", async (_, op) => {
    rest.resetRequestCount();
    expect(await kvTrips(() => op(testKv.kv))).toBe(1);
    expect(rest.requestCount()).toBe(1);
  });

  it("counts a sequence exactly: the count equals the HTTP requests sent", async () => {
    rest.resetRequestCount();
    expect(await kvTrips(everyOp(testKv.kv))).toBe(ROUND_TRIP_OPS.length);
    expect(rest.requestCount()).toBe(ROUND_TRIP_OPS.length);
  });

});

describe("upstash store: an EVALSHA → NOSCRIPT → EVAL retry counts as the two requests it is", () => {
  // A stand-in endpoint that has not seen the script yet (a flushed or restarted Redis), rather
  // than SCRIPT FLUSH on the shared test Redis, which would disturb suites running beside this one.
  const seen: string[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const command = JSON.parse(body) as string[];
      const name = String(command[0]).toLowerCase();
      seen.push(name);
      const noscript = name === "evalsha" && seen.filter((c) => c === "evalsha").length === 1;
      res.writeHead(noscript ? 400 : 200, { "content-type": "application/json" });
      res.end(JSON.stringify(noscript ? { error: "NOSCRIPT No matching script. Please use EVAL." } : { result: 0 }));
    });
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("counts 2 for the first call of a script, then 1", async () => {
    const { port } = server.address() as AddressInfo;
    const kv = createUpstashStore({ url: `http://127.0.0.1:${port}`, token: "t", timeoutMs: TEST_KV_TIMEOUT_MS });
    expect(await kvTrips(() => kv.leaseCount("rt:lease"))).toBe(2);
    expect(seen).toEqual(["evalsha", "eval"]);
    expect(await kvTrips(() => kv.leaseCount("rt:lease"))).toBe(1);
    expect(seen).toEqual(["evalsha", "eval", "evalsha"]);
  });
});

describe.skipIf(!REAL)("blocklist on Redis: one hash an operator can read", () => {
  let testKv: TestKv;
  beforeAll(async () => {
    testKv = await openTestKv();
  });
  afterAll(async () => {
    await testKv?.cleanup();
  });

  it("keeps entries as JSON under <prefix>blocklist, field = id, expiring with its longest entry", async () => {
    const now = Date.now();
    const a = blockEntry({ id: "a", createdAtMs: now, expiresAtMs: now + 60_000 });
    const b = blockEntry({ id: "b", target: "203.0.113.0/24", createdAtMs: now, expiresAtMs: now + 3_600_000 });
    await testKv.kv.blocklistAdd(b);
    await testKv.kv.blocklistAdd(a);
    const redis = new IORedis(process.env.TEST_REDIS_URL ?? "", { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      const raw = await redis.hgetall(`${testKv.prefix}blocklist`);
      expect(Object.keys(raw).sort()).toEqual(["a", "b"]);
      expect(JSON.parse(raw.a ?? "")).toEqual(a);
      expect(JSON.parse(raw.b ?? "")).toEqual(b);
      const pttl = await redis.pttl(`${testKv.prefix}blocklist`);
      expect(pttl).toBeGreaterThan(3_600_000 - 5_000);
      expect(pttl).toBeLessThanOrEqual(3_600_000);
      // A hand-edited, unreadable entry is dropped, not fatal.
      await redis.hset(`${testKv.prefix}blocklist`, "junk", "{not json");
      expect(byId(await testKv.kv.blocklistList(now))).toEqual([a, b]);
      expect(await redis.hexists(`${testKv.prefix}blocklist`, "junk")).toBe(0);
    } finally {
      redis.disconnect();
    }
  });
});
