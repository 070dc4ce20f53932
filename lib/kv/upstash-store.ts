import { parseBlockEntry } from "./block-entry";
import {
  BLOCKLIST_ADD,
  BLOCKLIST_LIST,
  BREAKER_READ,
  BREAKER_WRITE,
  GEN_ADMIT,
  GEN_SETTLE,
  HASH_INCREMENT,
  HASH_READ_MANY,
  HASH_SET,
  INCREMENT_WITHIN_LIMIT,
  LEASE_ACQUIRE,
  LEASE_COUNT,
  LEASE_LIST,
  LEASE_RELEASE,
  SCAN_KEYS,
} from "./scripts";
import {
  BLOCKLIST_KEY,
  type BlockEntry,
  type BreakerState,
  type CounterResult,
  type GenAdmitResult,
  type GenSettleResult,
  type KvStore,
  type LeaseResult,
} from "./types";
import { createUpstashClient } from "./upstash-client";

export interface UpstashStoreOptions {
  url: string;
  token: string;
  /** Prepended to every key, so several deployments (or test runs) can share one database. */
  prefix?: string;
  /** Bound on each HTTP request, response body included. */
  timeoutMs: number;
}

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

/** A literal for a Redis glob pattern (SCAN MATCH): its special characters escaped. */
const globEscape = (literal: string): string => literal.replace(/[*?[\]\\^-]/g, (c) => `\\${c}`);

/** The hash beside a lease set that remembers when each holder first took its lease. */
const sinceKey = (leaseKey: string): string => `${leaseKey}:since`;

/**
 * The store port on Upstash Redis over its REST API. Every operation is one HTTP request: a
 * single command or one Lua script from ./scripts.
 *
 * Scripts run through `Script.exec` of @upstash/redis 1.39, which sends EVALSHA and, only when
 * Redis answers NOSCRIPT, sends EVAL with the script text (which also caches it in Redis). So
 * the first call of each script against a Redis that has not seen it yet (a fresh database,
 * after a restart, failover or SCRIPT FLUSH) costs two round trips, each with its own timeout;
 * every later call costs one. EVALSHA never runs a partial script, so the retry cannot count twice.
 * Both requests are counted as round trips of the current request (see createUpstashClient).
 */
export function createUpstashStore({ url, token, prefix = "", timeoutMs }: UpstashStoreOptions): KvStore {
  // Values are opaque strings: a cached "123" or '{"a":1}' must come back as that string.
  const redis = createUpstashClient({ url, token, timeoutMs, automaticDeserialization: false });

  const incrementScript = redis.createScript<unknown>(INCREMENT_WITHIN_LIMIT);
  const leaseAcquireScript = redis.createScript<unknown>(LEASE_ACQUIRE);
  const leaseReleaseScript = redis.createScript<unknown>(LEASE_RELEASE);
  const leaseCountScript = redis.createScript<unknown>(LEASE_COUNT);
  const leaseListScript = redis.createScript<unknown>(LEASE_LIST);
  const blocklistAddScript = redis.createScript<unknown>(BLOCKLIST_ADD);
  const blocklistListScript = redis.createScript<unknown>(BLOCKLIST_LIST);
  const genAdmitScript = redis.createScript<unknown>(GEN_ADMIT);
  const genSettleScript = redis.createScript<unknown>(GEN_SETTLE);
  const breakerReadScript = redis.createScript<unknown>(BREAKER_READ);
  const breakerWriteScript = redis.createScript<unknown>(BREAKER_WRITE);
  const scanKeysScript = redis.createScript<unknown>(SCAN_KEYS);
  const hashIncrementScript = redis.createScript<unknown>(HASH_INCREMENT);
  const hashReadManyScript = redis.createScript<unknown>(HASH_READ_MANY);
  const hashSetScript = redis.createScript<unknown>(HASH_SET);

  const k = (key: string): string => prefix + key;

  return {
    kind: "upstash",
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
    async counterGet(key) {
      const value = await redis.get<string>(k(key));
      return value === null ? 0 : toNumber(value, "counterGet");
    },
    async leaseAcquire(key, holder, capacity, leaseMs): Promise<LeaseResult> {
      const reply = await leaseAcquireScript.exec([k(key), k(sinceKey(key))], [holder, String(capacity), String(leaseMs)]);
      const [acquired, holders] = toNumbers(reply, 2, "leaseAcquire") as [number, number];
      return { acquired: acquired === 1, holders };
    },
    async leaseRelease(key, holder) {
      await leaseReleaseScript.exec([k(key), k(sinceKey(key))], [holder]);
    },
    async leaseCount(key) {
      return toNumber(await leaseCountScript.exec([k(key), k(sinceKey(key))], []), "leaseCount");
    },
    async leaseList(key) {
      const reply = await leaseListScript.exec([k(key), k(sinceKey(key))], []);
      if (!Array.isArray(reply) || reply.length % 3 !== 0) {
        throw new Error(`Unexpected Redis reply for leaseList: ${JSON.stringify(reply)}`);
      }
      const holders = [];
      for (let i = 0; i < reply.length; i += 3) {
        holders.push({
          holder: String(reply[i]),
          sinceMs: toNumber(reply[i + 1], "leaseList"),
          expiresAtMs: toNumber(reply[i + 2], "leaseList"),
        });
      }
      return holders;
    },
    async genAdmit(input): Promise<GenAdmitResult> {
      const reply = await genAdmitScript.exec(
        [
          input.cacheKey,
          input.breakerKey,
          input.probeKey,
          input.quota?.key ?? input.cacheKey + ":noquota",
          input.lease.key,
          sinceKey(input.lease.key),
          input.stats?.hitsKey ?? input.cacheKey + ":nohits",
          input.stats?.missesKey ?? input.cacheKey + ":nomisses",
        ].map(k),
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
          input.stats ? "1" : "0",
          String(input.stats?.expireAtMs ?? 0),
        ],
      );
      if (!Array.isArray(reply) || typeof reply[0] !== "string") {
        throw new Error(`Unexpected Redis reply for genAdmit: ${JSON.stringify(reply)}`);
      }
      const [outcome, ...rest] = reply as [string, ...unknown[]];
      switch (outcome) {
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
          sinceKey(input.lease.key),
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
    async breakerWrite(key, state, open) {
      await breakerWriteScript.exec([k(key)], [state, String(open ? Math.max(0, Math.round(open.forMs)) : -1), String(open?.cooldownMs ?? 0)]);
    },
    async scanKeys(scanPrefix, cursor, remove) {
      const pattern = `${globEscape(k(scanPrefix))}*`;
      const reply = await scanKeysScript.exec([], [cursor, pattern, "1000", remove ? "1" : "0"]);
      if (!Array.isArray(reply) || reply.length !== 2) throw new Error(`Unexpected Redis reply for scanKeys: ${JSON.stringify(reply)}`);
      return { cursor: String(reply[0]), count: toNumber(reply[1], "scanKeys") };
    },
    async blocklistAdd(entry: BlockEntry) {
      await blocklistAddScript.exec([k(BLOCKLIST_KEY)], [entry.id, JSON.stringify(entry), String(entry.expiresAtMs)]);
    },
    async blocklistRemove(id) {
      return (await redis.hdel(k(BLOCKLIST_KEY), id)) === 1;
    },
    async blocklistList(nowMs) {
      const reply = await blocklistListScript.exec([k(BLOCKLIST_KEY)], [String(nowMs)]);
      if (!Array.isArray(reply)) throw new Error(`Unexpected Redis reply for blocklistList: ${JSON.stringify(reply)}`);
      return reply.flatMap((raw) => parseBlockEntry(raw) ?? []);
    },
    async hashIncrement(key, increments, ttlSeconds) {
      const args = [String(Math.max(1, Math.ceil(ttlSeconds)))];
      for (const [field, by] of Object.entries(increments)) {
        if (!Number.isSafeInteger(by)) throw new Error(`hashIncrement: ${field} must be an integer`);
        args.push(field, String(by));
      }
      await hashIncrementScript.exec([k(key)], args);
    },
    async hashReadMany(keys) {
      if (keys.length === 0) return [];
      const reply = await hashReadManyScript.exec(keys.map(k), []);
      if (!Array.isArray(reply) || reply.length !== keys.length) {
        throw new Error(`Unexpected Redis reply for hashReadMany: ${JSON.stringify(reply)}`);
      }
      return reply.map((flat: unknown) => {
        const out: Record<string, string> = {};
        if (Array.isArray(flat)) for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
        return out;
      });
    },
    async hashSet(key, field, value, ttlSeconds, expected) {
      const mode = expected === undefined ? "set" : expected === null ? "absent" : "equal";
      const reply = await hashSetScript.exec([k(key)], [field, value, String(Math.max(1, Math.ceil(ttlSeconds))), mode, expected ?? ""]);
      return toNumber(reply, "hashSet") === 1;
    },
    async setIfAbsent(key, value, ttlSeconds) {
      return (await redis.set(k(key), value, { nx: true, ex: Math.max(1, Math.ceil(ttlSeconds)) })) !== null;
    },
    async ping() {
      await redis.ping();
    },
  };
}
