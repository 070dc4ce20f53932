import { logFor } from "@/lib/observability/logger";
import { describeError } from "@/lib/util/describe-error";
import type { KvStore } from "./types";

export interface KvStatus {
  mode: "primary" | "fallback";
  /** Epoch ms when the fallback took over (fallback mode only). */
  since?: number;
  /** Why the primary was last given up on, without command arguments (fallback mode only). */
  lastError?: string;
}

/** The two log calls this store makes; a pino logger fits. */
export interface KvLog {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

export interface ResilientStoreOptions {
  primary: KvStore;
  fallback: KvStore;
  /** How long to stay on the fallback before the primary is tried again. */
  retryAfterMs: number;
  now?: () => number;
  /** Default: `logFor("kv")`. */
  log?: KvLog;
}

export type ResilientStore = KvStore & { status(): KvStatus };

/**
 * Serves every operation from `primary` while it answers, and from `fallback` (the in-memory
 * store) for `retryAfterMs` after it throws: a timeout, a network error, a 5xx or any other
 * failure. The failing operation itself is answered by the fallback, so callers never see a
 * store error. Once the window has passed, one operation at a time probes the primary (the
 * rest keep using the fallback rather than all waiting on a possibly hanging primary); the
 * first success switches back.
 *
 * Caveats while on the fallback:
 * - Quotas and leases are per instance: each instance counts on its own from zero, so a user
 *   can get up to (instances x limit) and capacity is per instance. Nothing is carried over
 *   either way when switching: counts made on the fallback are forgotten on recovery, and a
 *   lease taken on one store and released on the other lingers until it expires.
 * - A timed-out operation may still have been applied by the primary before it is repeated on
 *   the fallback.
 * - Blocklist changes made on the fallback stay on this instance and are not written to Redis.
 *
 * Round trips: this wrapper counts nothing itself; the store that answers counts its own (a
 * failed primary attempt and the fallback's answer are two).
 */
export function createResilientStore(options: ResilientStoreOptions): ResilientStore {
  const { primary, fallback, retryAfterMs } = options;
  const now = options.now ?? Date.now;
  let log = options.log;
  const logger = (): KvLog => (log ??= logFor("kv"));

  let mode: KvStatus["mode"] = "primary";
  let since: number | undefined;
  let lastError: string | undefined;
  let retryAt = 0;
  let probing = false;

  function giveUp(error: unknown): void {
    lastError = describeError(error);
    retryAt = now() + retryAfterMs;
    if (mode === "fallback") return; // a failed probe, or a late failure of the same outage: logged already
    mode = "fallback";
    since = now();
    logger().warn({ error: lastError, retryAfterMs }, "redis unavailable; serving from the in-memory fallback");
  }

  function recover(): void {
    logger().info({ downMs: since === undefined ? undefined : now() - since }, "redis reachable again; back on it");
    mode = "primary";
    since = undefined;
    lastError = undefined;
  }

  async function run<T>(op: (store: KvStore) => Promise<T>): Promise<T> {
    if (mode === "fallback" && (probing || now() < retryAt)) return op(fallback);
    // In fallback mode this call is the probe; in primary mode an ordinary call.
    const probe = mode === "fallback";
    if (probe) probing = true;
    try {
      const result = await op(primary);
      if (probe) recover();
      return result;
    } catch (error) {
      giveUp(error);
      return op(fallback);
    } finally {
      if (probe) probing = false;
    }
  }

  return {
    kind: primary.kind,
    cacheGet: (key) => run((s) => s.cacheGet(key)),
    cacheSet: (key, value, ttlSeconds) => run((s) => s.cacheSet(key, value, ttlSeconds)),
    cacheDelete: (key) => run((s) => s.cacheDelete(key)),
    incrementWithinLimit: (key, limit, expireAtMs) => run((s) => s.incrementWithinLimit(key, limit, expireAtMs)),
    counterGet: (key) => run((s) => s.counterGet(key)),
    leaseAcquire: (key, holder, capacity, leaseMs) => run((s) => s.leaseAcquire(key, holder, capacity, leaseMs)),
    leaseRelease: (key, holder) => run((s) => s.leaseRelease(key, holder)),
    leaseCount: (key) => run((s) => s.leaseCount(key)),
    leaseList: (key) => run((s) => s.leaseList(key)),
    genAdmit: (input) => run((s) => s.genAdmit(input)),
    genSettle: (input) => run((s) => s.genSettle(input)),
    breakerRead: (key) => run((s) => s.breakerRead(key)),
    breakerWrite: (key, state, open) => run((s) => s.breakerWrite(key, state, open)),
    scanKeys: (prefix, cursor, remove) => run((s) => s.scanKeys(prefix, cursor, remove)),
    blocklistAdd: (entry) => run((s) => s.blocklistAdd(entry)),
    blocklistRemove: (id) => run((s) => s.blocklistRemove(id)),
    blocklistList: (nowMs) => run((s) => s.blocklistList(nowMs)),
    hashIncrement: (key, increments, ttlSeconds) => run((s) => s.hashIncrement(key, increments, ttlSeconds)),
    hashReadMany: (keys) => run((s) => s.hashReadMany(keys)),
    hashSet: (key, field, value, ttlSeconds, expected) => run((s) => s.hashSet(key, field, value, ttlSeconds, expected)),
    setIfAbsent: (key, value, ttlSeconds) => run((s) => s.setIfAbsent(key, value, ttlSeconds)),
    /**
     * Always the primary, and it throws when that is down: readiness must see the real state. Once
     * the fallback window has passed, an answer is a successful probe like any other: back on the
     * primary (readiness' pings bring an idle instance back).
     */
    ping: async () => {
      await primary.ping();
      if (mode === "fallback" && !probing && now() >= retryAt) recover();
    },
    status: () => (mode === "primary" ? { mode } : { mode, since, lastError }),
  };
}
