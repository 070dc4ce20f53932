import "server-only";
import { getEnv } from "@/lib/env";
import { BREAKER_KEY, INFLIGHT_KEY, cacheStatsKeys } from "@/lib/generation/keys";
import { getKv } from "@/lib/kv";
import { utcDay } from "@/lib/quota";
import { recordAudit, type AdminActor } from "./audit";

/**
 * The operations console (PRODUCT §7 "operations"): the model's circuit breaker, the caption
 * cache and the in-flight leases. All three live in the kv store (Redis, shared by every
 * instance; the in-memory store when embedded), so every instance answers the same.
 */

// ---------------------------------------------------------------------------------------------
// Breaker

export type BreakerStateName = "closed" | "open" | "half-open";

export interface BreakerView {
  /** `half-open`: open, but its cooldown is over, so the next generation is the probe. */
  state: BreakerStateName;
  /** Consecutive upstream failures counted while closed (it opens at `threshold`). */
  failures: number;
  threshold: number;
  cooldownMs: number;
  /**
   * When it opened (ISO); null when closed, and for a forced opening longer than the cooldown
   * (recorded as opened `cooldown` before its end, which is then still to come).
   */
  openedAt: string | null;
  /** Until when it refuses generations outright (ISO): then the half-open probe may go. */
  openUntil: string | null;
  /** Milliseconds left of `openUntil` (0 when not open). */
  remainingMs: number;
}

export async function readBreaker(nowMs = Date.now()): Promise<BreakerView> {
  const env = getEnv();
  const snapshot = await getKv().breakerRead(BREAKER_KEY);
  const base = { failures: snapshot.failures, threshold: env.BREAKER_FAILURE_THRESHOLD, cooldownMs: env.BREAKER_COOLDOWN_MS };
  if (snapshot.state !== "open") return { ...base, state: "closed", openedAt: null, openUntil: null, remainingMs: 0 };
  const untilMs = snapshot.openedAtMs + env.BREAKER_COOLDOWN_MS;
  return {
    ...base,
    state: nowMs < untilMs ? "open" : "half-open",
    // A forced opening is recorded as opened `cooldown` before its end (see KvStore.breakerWrite).
    openedAt: snapshot.openedAtMs <= nowMs ? new Date(snapshot.openedAtMs).toISOString() : null,
    openUntil: new Date(untilMs).toISOString(),
    remainingMs: Math.max(0, untilMs - nowMs),
  };
}

/** The bounds of a forced opening, in seconds (PRODUCT §7: `{ action: "force-open", seconds }`). */
export const FORCE_OPEN_MIN_SECONDS = 1;
export const FORCE_OPEN_MAX_SECONDS = 3600;

export type BreakerAction = { action: "reset" } | { action: "force-open"; seconds: number };

/**
 * Resets the breaker (closed, failures zeroed) or forces it open for `seconds`: every instance
 * answers 503 `upstream_unavailable` without calling the model until then (or uses the fallback
 * model, when one is configured), and the half-open probe follows. Audited after the change.
 */
export async function changeBreaker(actor: AdminActor, change: BreakerAction): Promise<BreakerView> {
  const before = await readBreaker();
  if (change.action === "reset") {
    await getKv().breakerWrite(BREAKER_KEY, "closed");
  } else {
    await getKv().breakerWrite(BREAKER_KEY, "open", { forMs: change.seconds * 1000, cooldownMs: getEnv().BREAKER_COOLDOWN_MS });
  }
  const after = await readBreaker();
  const summary = (v: BreakerView) => ({ state: v.state, failures: v.failures, openUntil: v.openUntil });
  await recordAudit(actor, {
    action: change.action === "reset" ? "breaker.reset" : "breaker.force_open",
    target: "breaker",
    before: summary(before),
    after: change.action === "reset" ? summary(after) : { ...summary(after), seconds: change.seconds },
  });
  return after;
}

// ---------------------------------------------------------------------------------------------
// Cache

/** Every caption cache entry's key starts with this (lib/generation/keys.ts `cacheKey`). */
export const CACHE_PREFIX = "gen:";

/** Scans the cache's keys to the end; deletes them when `remove`. */
async function scanCache(remove: boolean): Promise<number> {
  const kv = getKv();
  let cursor = "0";
  let total = 0;
  do {
    // String keys only: the in-flight lease set (`gen:inflight`, a sorted set) is never touched.
    const step = await kv.scanKeys(CACHE_PREFIX, cursor, remove);
    total += step.count;
    cursor = step.cursor;
  } while (cursor !== "0");
  return total;
}

export interface CacheCounts {
  hits: number;
  misses: number;
  /** hits / (hits + misses), or null before any lookup. */
  hitRate: number | null;
}

export interface CacheDay extends CacheCounts {
  day: string;
}

export interface CacheStats {
  /** Cached captions now (`gen:*` entries). */
  keys: number;
  /** Lookups today (UTC), counted by the admission step on every instance. */
  today: CacheCounts;
  /** The last 7 UTC days, today included. */
  last7Days: CacheCounts;
  days: CacheDay[];
}

const counts = (hits: number, misses: number): CacheCounts => ({ hits, misses, hitRate: hits + misses > 0 ? hits / (hits + misses) : null });

/** The hit and miss counters of the last `days` UTC days, newest first. */
export async function cacheHitRates(days = 7, nowMs = Date.now()): Promise<CacheDay[]> {
  const kv = getKv();
  return Promise.all(
    Array.from({ length: days }, async (_, i) => {
      const day = utcDay(nowMs - i * 86_400_000);
      const { hitsKey, missesKey } = cacheStatsKeys(day);
      const [hits, misses] = await Promise.all([kv.counterGet(hitsKey), kv.counterGet(missesKey)]);
      return { day, ...counts(hits, misses) };
    }),
  );
}

export async function readCacheStats(): Promise<CacheStats> {
  const [keys, days] = await Promise.all([scanCache(false), cacheHitRates(7)]);
  const sum = (field: "hits" | "misses") => days.reduce((n, d) => n + d[field], 0);
  return { keys, today: counts(days[0]!.hits, days[0]!.misses), last7Days: counts(sum("hits"), sum("misses")), days };
}

/**
 * Deletes every cached caption (`gen:*` string keys) and nothing else: quotas, leases, the
 * breaker, the blocklist and the hit/miss counters live under other keys or types. Audited.
 */
export async function flushCache(actor: AdminActor): Promise<{ deleted: number }> {
  const deleted = await scanCache(true);
  await recordAudit(actor, { action: "cache.flush", target: `${CACHE_PREFIX}*`, after: { deleted } });
  return { deleted };
}

// ---------------------------------------------------------------------------------------------
// In-flight leases

export interface InflightLease {
  holder: string;
  /** The instance that holds it (the holder's first part). */
  instance: string;
  since: string;
  expires: string;
  /** How long it has been held, ms. */
  ageMs: number;
}

export interface InflightView {
  capacity: number;
  count: number;
  items: InflightLease[];
}

/** The leases of the global in-flight cap held now, across all instances (soonest to expire first). */
export async function listInflight(nowMs = Date.now()): Promise<InflightView> {
  const leases = await getKv().leaseList(INFLIGHT_KEY);
  return {
    capacity: getEnv().GEN_MAX_INFLIGHT,
    count: leases.length,
    items: leases.map((l) => ({
      holder: l.holder,
      instance: l.holder.split(":")[0] ?? l.holder,
      since: new Date(l.sinceMs).toISOString(),
      expires: new Date(l.expiresAtMs).toISOString(),
      ageMs: Math.max(0, nowMs - l.sinceMs),
    })),
  };
}
