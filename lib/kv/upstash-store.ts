import { Redis } from "@upstash/redis";
import { countKvRoundTrip } from "@/lib/observability/request-stats";
import {
  BREAKER_READ,
  DECREMENT_FLOOR_ZERO,
  GEN_ADMIT,
  GEN_SETTLE,
  INCREMENT_WITHIN_LIMIT,
  LEASE_ACQUIRE,
  LEASE_COUNT,
} from "./scripts";
import type { BreakerState, CounterResult, GenAdmitResult, GenSettleResult, KvStore, LeaseResult } from "./types";

export interface UpstashStoreOptions {
  url: string;
  token: string;
  /** Prepended to every key, so several deployments (or test runs) can share one database. */
  prefix?: string;
  /** Bound on each HTTP request, response body included. */
  timeoutMs: number;
}

export type UpstashStore = KvStore & { readonly redis: Redis };

/** A reply field as a number; Upstash sends integers as JSON numbers, but a string is accepted too. */
function toNumber(value: unknown, what: string): number {
  const n = typeof value === "number" ? value : typeof value === "string" ? Number(value) : Number.NaN;
  if (!Number.isFinite(n)) throw new Error(`Unexpected Redis reply for ${what}: ${JSON.stringify(value)}`);
  return n;
}

/** A script's array reply as numbers, checked for length. */
function toNumbers(reply: unknown, length: number, what: string): number[] {
  if (!Array.isArray(reply) || reply.length !== length) {
    throw new Error(`Unexpected Redis reply for ${what}: ${JSON.stringify(reply)}`);
  }
  return reply.map((item) => toNumber(item, what));
}

/** PTTL to the port's convention: -1 no expiry, 0 absent (PTTL says -2). */
const ttlFromPttl = (pttl: number): number => (pttl === -2 ? 0 : pttl);

/**
 * The store port on Upstash Redis over its REST API. Every operation is one HTTP request: a
 * single command or one Lua script from ./scripts.
 *
 * Scripts run through `Script.exec` of @upstash/redis 1.39, which sends EVALSHA and, only when
 * Redis answers NOSCRIPT, sends EVAL with the script text (which also caches it in Redis). So
 * the first call of each script against a Redis that has not seen it yet (a fresh database,
 * after a restart, failover or SCRIPT FLUSH) costs two round trips, each with its own timeout;
 * every later call costs one. EVALSHA never runs a partial script, so the retry cannot count twice.
 */
export function createUpstashStore({ url, token, prefix = "", timeoutMs }: UpstashStoreOptions): UpstashStore {
  const redis = new Redis({
    url,
    token,
    // Values are opaque strings: a cached "123" or '{"a":1}' must come back as that string.
    automaticDeserialization: false,
    // One request per operation: batching would tie unrelated callers' latency and failures together.
    enableAutoPipelining: false,
    // Fail fast; the resilient store falls back to memory instead. (`retry: false` would still
    // try twice in 1.39: it means "one attempt" on top of the first.)
    retry: { retries: 0 },
    // The function form gives every request a fresh timer, and an aborted request rejects. A
    // plain AbortSignal would be shared by all requests, and 1.39 turns its abort into a
    // successful reply whose result is the string "Aborted".
    signal: () => AbortSignal.timeout(timeoutMs),
    enableTelemetry: false,
  });

  const incrementScript = redis.createScript<unknown>(INCREMENT_WITHIN_LIMIT);
  const decrementScript = redis.createScript<unknown>(DECREMENT_FLOOR_ZERO);
  const leaseAcquireScript = redis.createScript<unknown>(LEASE_ACQUIRE);
  const leaseCountScript = redis.createScript<unknown>(LEASE_COUNT);
  const genAdmitScript = redis.createScript<unknown>(GEN_ADMIT);
  const genSettleScript = redis.createScript<unknown>(GEN_SETTLE);
  const breakerReadScript = redis.createScript<unknown>(BREAKER_READ);

  const k = (key: string): string => prefix + key;

  const store: UpstashStore = {
    kind: "upstash",
    redis,
    async cacheGet(key) {
      return redis.get<string>(k(key));
    },
    async cacheSet(key, value, ttlSeconds) {
      await redis.set(k(key), value, { ex: ttlSeconds });
    },
    async cacheDelete(key) {
      await redis.del(k(key));
    },
    async incrementWithinLimit(key, limit, expireAtMs): Promise<CounterResult> {
      const reply = await incrementScript.exec([k(key)], [String(limit), String(expireAtMs)]);
      const [allowed, count, pttl] = toNumbers(reply, 3, "incrementWithinLimit") as [number, number, number];
      return { allowed: allowed === 1, count, ttlMs: ttlFromPttl(pttl) };
    },
    async decrementFloorZero(key) {
      return toNumber(await decrementScript.exec([k(key)], []), "decrementFloorZero");
    },
    async counterGet(key) {
      const value = await redis.get<string>(k(key));
      return value === null ? 0 : toNumber(value, "counterGet");
    },
    async leaseAcquire(key, holder, capacity, leaseMs): Promise<LeaseResult> {
      const reply = await leaseAcquireScript.exec([k(key)], [holder, String(capacity), String(leaseMs)]);
      const [acquired, holders] = toNumbers(reply, 2, "leaseAcquire") as [number, number];
      return { acquired: acquired === 1, holders };
    },
    async leaseRelease(key, holder) {
      await redis.zrem(k(key), holder);
    },
    async leaseCount(key) {
      return toNumber(await leaseCountScript.exec([k(key)], []), "leaseCount");
    },
    async genAdmit(input): Promise<GenAdmitResult> {
      const reply = await genAdmitScript.exec(
        [input.cacheKey, input.blockKey, input.breakerKey, input.probeKey, input.quota?.key ?? input.cacheKey + ":noquota", input.lease.key].map(k),
        [
          input.checkCache ? "1" : "0",
          String(input.quota?.limit ?? -1),
          String(input.quota?.expireAtMs ?? 0),
          input.lease.holder,
          String(input.lease.capacity),
          String(input.lease.leaseMs),
          String(input.breakerCooldownMs),
          String(input.probeLeaseMs),
          input.skipBreaker ? "1" : "0",
        ],
      );
      if (!Array.isArray(reply) || typeof reply[0] !== "string") {
        throw new Error(`Unexpected Redis reply for genAdmit: ${JSON.stringify(reply)}`);
      }
      const [outcome, ...rest] = reply as [string, ...unknown[]];
      switch (outcome) {
        case "blocked":
          return { outcome, ttlMs: ttlFromPttl(toNumber(rest[0], "genAdmit")) };
        case "hit":
          return {
            outcome,
            value: String(rest[0]),
            quotaCount: toNumber(rest[1], "genAdmit"),
            quotaTtlMs: ttlFromPttl(toNumber(rest[2], "genAdmit")),
          };
        case "open":
          return { outcome, retryAfterMs: toNumber(rest[0], "genAdmit") };
        case "quota_denied":
          return { outcome, count: toNumber(rest[0], "genAdmit"), ttlMs: ttlFromPttl(toNumber(rest[1], "genAdmit")) };
        case "ok": {
          const [quotaCount, pttl, acquired, holders, probe] = toNumbers(rest, 5, "genAdmit") as [number, number, number, number, number];
          return { outcome, quotaCount, quotaTtlMs: ttlFromPttl(pttl), leaseAcquired: acquired === 1, holders, probe: probe === 1 };
        }
        default:
          throw new Error(`Unexpected Redis reply for genAdmit: ${JSON.stringify(reply)}`);
      }
    },
    async genSettle(input): Promise<GenSettleResult> {
      const reply = await genSettleScript.exec(
        [
          input.cache?.key ?? input.lease.key + ":nocache",
          input.lease.key,
          input.refundQuotaKey ?? input.lease.key + ":norefund",
          input.breaker.key,
          input.breaker.probeKey,
        ].map(k),
        [
          input.cache?.value ?? "",
          String(input.cache?.ttlSeconds ?? 1),
          input.lease.holder,
          input.refundQuotaKey === undefined ? "0" : "1",
          input.breaker.outcome,
          String(input.breaker.threshold),
          input.breaker.wasProbe ? "1" : "0",
        ],
      );
      if (!Array.isArray(reply) || reply.length !== 2) {
        throw new Error(`Unexpected Redis reply for genSettle: ${JSON.stringify(reply)}`);
      }
      const [rawTransition, rawState] = reply as unknown[];
      const transition = rawTransition === "opened" || rawTransition === "closed" ? rawTransition : null;
      return { transition, state: rawState === "open" ? "open" : "closed" };
    },
    async breakerRead(key) {
      const reply = await breakerReadScript.exec([k(key)], []);
      if (!Array.isArray(reply) || reply.length !== 3) {
        throw new Error(`Unexpected Redis reply for breakerRead: ${JSON.stringify(reply)}`);
      }
      const state: BreakerState = reply[0] === "open" ? "open" : "closed";
      return { state, failures: toNumber(reply[1], "breakerRead"), openedAtMs: toNumber(reply[2], "breakerRead") };
    },
    async breakerWrite(key, state) {
      await redis.hset(k(key), { state, failures: 0, opened_at: state === "open" ? Date.now() : 0 });
    },
    async ping() {
      await redis.ping();
    },
  };

  // Every operation above is one HTTP request: count it for the request's debug line.
  for (const [name, value] of Object.entries(store)) {
    if (typeof value !== "function") continue;
    const op = value as (...args: unknown[]) => Promise<unknown>;
    (store as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      countKvRoundTrip();
      return op(...args);
    };
  }
  return store;
}
