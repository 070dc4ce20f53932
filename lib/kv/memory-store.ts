import { countKvRoundTrip } from "@/lib/observability/request-stats";
import { RecencyMap } from "@/lib/util/recency-map";
import type {
  BlockEntry,
  BreakerSnapshot,
  CounterResult,
  GenAdmitResult,
  GenSettleResult,
  KvStore,
  LeaseHolder,
  LeaseResult,
} from "./types";

/**
 * Default bound on stored keys (cache entries, counters: most are per client). At a few hundred
 * bytes each, 50,000 keys stay within ~25 MiB; the oldest-written are evicted first.
 */
export const MEMORY_STORE_MAX_ENTRIES = 50_000;
/** Bound on lease sets (the in-flight set, plus any per-request lock a caller keeps as a lease). */
export const MEMORY_STORE_MAX_LEASE_KEYS = 10_000;
/** Bound on blocklist entries (operator-made, each with a TTL; expired ones go first). */
export const MEMORY_STORE_MAX_BLOCK_ENTRIES = 10_000;
/** Bound on hashes (shared series minutes, alert state): the oldest-written are evicted first. */
export const MEMORY_STORE_MAX_HASH_KEYS = 10_000;

interface HashEntry {
  fields: Map<string, string>;
  expiresAt: number;
}

interface Lease {
  sinceMs: number;
  expiresAtMs: number;
}

interface Entry {
  value: string;
  /** epoch ms, or undefined for no expiry */
  expiresAt?: number;
}

export interface MemoryStoreOptions {
  prefix?: string;
  /** Bound on stored keys (default MEMORY_STORE_MAX_ENTRIES): the oldest-written are evicted first. */
  maxEntries?: number;
  now?: () => number;
}

/** What a memory store holds, for tests of its bounds. */
export interface MemoryStoreSizes {
  entries: number;
  leaseKeys: number;
  blockEntries: number;
}

export type MemoryStore = KvStore & { sizes(): MemoryStoreSizes };

/** Wraps every operation so it counts as one round trip (an equivalent: nothing leaves the process). */
function countEach<T extends object>(ops: T): T {
  const counted: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(ops)) {
    counted[name] =
      typeof value === "function"
        ? (...args: unknown[]): unknown => {
            countKvRoundTrip();
            return (value as (...a: unknown[]) => unknown)(...args);
          }
        : value;
  }
  return counted as T;
}

/**
 * The in-process store: the embedded default and the fallback while Redis is unreachable.
 * Same semantics as the Redis scripts; JavaScript's single thread makes each operation atomic.
 * Every operation counts as one kv round trip of the current request, as its Redis twin does,
 * so embedded mode reports the same figures. Everything it holds is bounded (see the constants).
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const prefix = options.prefix ?? "";
  const maxEntries = options.maxEntries ?? MEMORY_STORE_MAX_ENTRIES;
  const now = options.now ?? Date.now;
  // Oldest-written first: the bounds evict from that end, and expired keys leave from it.
  const entries = new RecencyMap<string, Entry>();
  const leases = new Map<string, Map<string, Lease>>();
  const breakers = new Map<string, BreakerSnapshot>();
  const blocklist = new Map<string, BlockEntry>();
  const hashes = new RecencyMap<string, HashEntry>();

  function readHash(key: string): HashEntry | undefined {
    const hash = hashes.get(prefix + key);
    if (hash && hash.expiresAt <= now()) {
      hashes.delete(prefix + key);
      return undefined;
    }
    return hash;
  }

  /** The live hash at `key` (created empty), moved to the newest-written end, with a fresh TTL. */
  function touchHash(key: string, ttlSeconds: number): HashEntry {
    const hash = readHash(key) ?? { fields: new Map<string, string>(), expiresAt: 0 };
    hash.expiresAt = now() + Math.max(1, Math.ceil(ttlSeconds)) * 1000;
    hashes.set(prefix + key, hash); // the newest-written now
    while (hashes.size > MEMORY_STORE_MAX_HASH_KEYS) {
      const oldest = hashes.oldest();
      if (oldest === undefined) break;
      hashes.delete(oldest[0]);
    }
    return hash;
  }

  function read(key: string): Entry | undefined {
    const entry = entries.get(prefix + key);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= now()) {
      entries.delete(prefix + key);
      return undefined;
    }
    return entry;
  }

  /**
   * Expired entries at the oldest-written end go as new ones come in. Most keys are per client
   * and per window (a one-shot client's rate-limit counter is dead a minute later): without this
   * the map fills to its bound with dead entries as distinct clients pass, and the heap with it.
   * Stops at the first live entry, so a write costs one look in the usual case.
   */
  function dropExpiredOldest(t: number): void {
    for (let oldest = entries.oldest(); oldest !== undefined; oldest = entries.oldest()) {
      const [key, entry] = oldest;
      if (entry.expiresAt === undefined || entry.expiresAt > t) return;
      entries.delete(key);
    }
  }

  function write(key: string, entry: Entry): void {
    entries.set(prefix + key, entry); // the newest-written now
    dropExpiredOldest(now());
    while (entries.size > maxEntries) {
      const oldest = entries.oldest();
      if (oldest === undefined) break;
      entries.delete(oldest[0]);
    }
  }

  function ttlOf(entry: Entry | undefined): number {
    if (!entry) return 0;
    return entry.expiresAt === undefined ? -1 : Math.max(0, entry.expiresAt - now());
  }

  function liveLeases(key: string): Map<string, Lease> {
    const holders = leases.get(prefix + key) ?? new Map<string, Lease>();
    const t = now();
    for (const [holder, lease] of holders) if (lease.expiresAtMs <= t) holders.delete(holder);
    if (holders.size === 0) leases.delete(prefix + key);
    return holders;
  }

  /** Gives `holder` a lease (keeping its since on a renewal) and keeps the lease sets bounded. */
  function takeLease(key: string, holders: Map<string, Lease>, holder: string, leaseMs: number): void {
    const t = now();
    holders.set(holder, { sinceMs: holders.get(holder)?.sinceMs ?? t, expiresAtMs: t + leaseMs });
    if (!leases.has(prefix + key) && leases.size >= MEMORY_STORE_MAX_LEASE_KEYS) {
      for (const [name, set] of leases) {
        for (const [h, lease] of set) if (lease.expiresAtMs <= t) set.delete(h);
        if (set.size === 0) leases.delete(name);
      }
      const oldest = leases.keys().next().value;
      if (leases.size >= MEMORY_STORE_MAX_LEASE_KEYS && oldest !== undefined) leases.delete(oldest);
    }
    leases.set(prefix + key, holders);
  }

  function releaseLease(key: string, holder: string): void {
    liveLeases(key).delete(holder);
    if (leases.get(prefix + key)?.size === 0) leases.delete(prefix + key);
  }

  /** A cache statistics counter (genAdmit's `stats`): +1, expiring at `expireAtMs` from its first increment. */
  function bump(key: string, expireAtMs: number): void {
    const entry = read(key);
    write(key, { value: String(Number(entry?.value ?? 0) + 1), expiresAt: entry?.expiresAt ?? expireAtMs });
  }

  const ops: KvStore = {
    kind: "memory",
    async cacheGet(key) {
      return read(key)?.value ?? null;
    },
    async cacheSet(key, value, ttlSeconds) {
      write(key, { value, expiresAt: now() + ttlSeconds * 1000 });
    },
    async cacheDelete(key) {
      entries.delete(prefix + key);
    },
    async incrementWithinLimit(key, limit, expireAtMs): Promise<CounterResult> {
      const entry = read(key);
      const current = Number(entry?.value ?? 0);
      if (current >= limit) return { allowed: false, count: current, ttlMs: ttlOf(entry) };
      const next: Entry = { value: String(current + 1), expiresAt: entry?.expiresAt ?? expireAtMs };
      write(key, next);
      return { allowed: true, count: current + 1, ttlMs: ttlOf(next) };
    },
    async counterGet(key) {
      return Number(read(key)?.value ?? 0);
    },
    async leaseAcquire(key, holder, capacity, leaseMs): Promise<LeaseResult> {
      const holders = liveLeases(key);
      if (!holders.has(holder) && holders.size >= capacity) return { acquired: false, holders: holders.size };
      takeLease(key, holders, holder, leaseMs);
      return { acquired: true, holders: holders.size };
    },
    async leaseRelease(key, holder) {
      releaseLease(key, holder);
    },
    async leaseCount(key) {
      return liveLeases(key).size;
    },
    async leaseList(key): Promise<LeaseHolder[]> {
      return [...liveLeases(key)]
        .map(([holder, lease]) => ({ holder, ...lease }))
        .sort((a, b) => a.expiresAtMs - b.expiresAtMs);
    },
    async genAdmit(input): Promise<GenAdmitResult> {
      if (input.checkCache) {
        const hit = read(input.cacheKey);
        if (hit) {
          if (input.stats) bump(input.stats.hitsKey, input.stats.expireAtMs);
          const quota = input.quota ? read(input.quota.key) : undefined;
          return { outcome: "hit", value: hit.value, quotaCount: Number(quota?.value ?? 0), quotaTtlMs: ttlOf(quota) };
        }
      }
      let probe = false;
      const breaker = breakers.get(prefix + input.breakerKey);
      if (breaker?.state === "open" && !input.skipBreaker) {
        const waited = now() - breaker.openedAtMs;
        if (waited < input.breakerCooldownMs) return { outcome: "open", retryAfterMs: input.breakerCooldownMs - waited };
        const held = read(input.probeKey);
        if (held) return { outcome: "open", retryAfterMs: Math.max(ttlOf(held), 1) };
        write(input.probeKey, { value: input.lease.holder, expiresAt: now() + input.probeLeaseMs });
        probe = true;
      }
      if (input.checkCache && input.stats) bump(input.stats.missesKey, input.stats.expireAtMs);
      let quotaCount = 0;
      let quotaTtlMs = 0;
      if (input.quota) {
        const entry = read(input.quota.key);
        const current = Number(entry?.value ?? 0);
        if (current >= input.quota.limit) {
          if (probe) entries.delete(prefix + input.probeKey);
          return { outcome: "quota_denied", count: current, ttlMs: ttlOf(entry) };
        }
        const next: Entry = { value: String(current + 1), expiresAt: entry?.expiresAt ?? input.quota.expireAtMs };
        write(input.quota.key, next);
        quotaCount = current + 1;
        quotaTtlMs = ttlOf(next);
      }
      const holders = liveLeases(input.lease.key);
      let leaseAcquired = false;
      if (holders.size < input.lease.capacity) {
        takeLease(input.lease.key, holders, input.lease.holder, input.lease.leaseMs);
        leaseAcquired = true;
      }
      return { outcome: "ok", quotaCount, quotaTtlMs, leaseAcquired, holders: holders.size, probe };
    },
    async genSettle(input): Promise<GenSettleResult> {
      if (input.cache) write(input.cache.key, { value: input.cache.value, expiresAt: now() + input.cache.ttlSeconds * 1000 });
      releaseLease(input.lease.key, input.lease.holder);
      if (input.refundQuotaKey !== undefined) {
        const entry = read(input.refundQuotaKey);
        const current = Number(entry?.value ?? 0);
        if (entry && current > 0) write(input.refundQuotaKey, { value: String(current - 1), expiresAt: entry.expiresAt });
      }
      const { key, probeKey, outcome, threshold, wasProbe } = input.breaker;
      const snapshot = breakers.get(prefix + key) ?? { state: "closed", failures: 0, openedAtMs: 0 };
      let transition: GenSettleResult["transition"] = null;
      if (wasProbe && read(probeKey)?.value === input.lease.holder) entries.delete(prefix + probeKey);
      if (outcome === "success") {
        if (snapshot.state === "open" && wasProbe) transition = "closed";
        if (snapshot.state === "closed" || wasProbe) breakers.set(prefix + key, { state: "closed", failures: 0, openedAtMs: 0 });
      } else if (outcome === "failure") {
        if (wasProbe) {
          if (snapshot.state !== "open") transition = "opened";
          breakers.set(prefix + key, { ...snapshot, state: "open", openedAtMs: now() });
        } else if (snapshot.state !== "open") {
          const failures = snapshot.failures + 1;
          const opened = failures >= threshold;
          if (opened) transition = "opened";
          breakers.set(prefix + key, { state: opened ? "open" : "closed", failures, openedAtMs: opened ? now() : 0 });
        }
      }
      return { transition, state: breakers.get(prefix + key)?.state ?? "closed" };
    },
    async breakerRead(key) {
      return breakers.get(prefix + key) ?? { state: "closed", failures: 0, openedAtMs: 0 };
    },
    async breakerWrite(key, state, open) {
      const openedAtMs = state !== "open" ? 0 : open ? now() + Math.max(0, Math.round(open.forMs)) - open.cooldownMs : now();
      breakers.set(prefix + key, { state, failures: 0, openedAtMs });
    },
    async scanKeys(scanPrefix, _cursor, remove) {
      const wanted = prefix + scanPrefix;
      const t = now();
      let count = 0;
      for (const [name, entry] of entries) {
        if (!name.startsWith(wanted)) continue;
        if (entry.expiresAt !== undefined && entry.expiresAt <= t) {
          entries.delete(name);
          continue;
        }
        count += 1;
        if (remove) entries.delete(name);
      }
      return { cursor: "0", count };
    },
    async blocklistAdd(entry) {
      blocklist.delete(entry.id);
      blocklist.set(entry.id, { ...entry });
      if (blocklist.size > MEMORY_STORE_MAX_BLOCK_ENTRIES) {
        const t = now();
        for (const [id, e] of blocklist) if (e.expiresAtMs <= t) blocklist.delete(id);
        for (const id of blocklist.keys()) {
          if (blocklist.size <= MEMORY_STORE_MAX_BLOCK_ENTRIES) break;
          blocklist.delete(id);
        }
      }
    },
    async blocklistRemove(id) {
      return blocklist.delete(id);
    },
    async blocklistList(nowMs) {
      for (const [id, e] of blocklist) if (e.expiresAtMs <= nowMs) blocklist.delete(id);
      return [...blocklist.values()].map((e) => ({ ...e }));
    },
    async hashIncrement(key, increments, ttlSeconds) {
      for (const [field, by] of Object.entries(increments)) {
        if (!Number.isSafeInteger(by)) throw new Error(`hashIncrement: ${field} must be an integer`);
      }
      const hash = touchHash(key, ttlSeconds);
      for (const [field, by] of Object.entries(increments)) hash.fields.set(field, String(Number(hash.fields.get(field) ?? 0) + by));
    },
    async hashReadMany(keys) {
      return keys.map((key) => Object.fromEntries(readHash(key)?.fields ?? []));
    },
    async hashSet(key, field, value, ttlSeconds, expected) {
      const current = readHash(key)?.fields.get(field) ?? null;
      if (expected !== undefined && current !== expected) return false;
      touchHash(key, ttlSeconds).fields.set(field, value);
      return true;
    },
    async setIfAbsent(key, value, ttlSeconds) {
      if (read(key)) return false;
      write(key, { value, expiresAt: now() + Math.max(1, Math.ceil(ttlSeconds)) * 1000 });
      return true;
    },
    async ping() {},
  };
  return {
    ...countEach(ops),
    sizes: () => ({ entries: entries.size, leaseKeys: leases.size, blockEntries: blocklist.size }),
  };
}
