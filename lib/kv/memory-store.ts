import type { BreakerSnapshot, CounterResult, GenAdmitResult, GenSettleResult, KvStore, LeaseResult } from "./types";

interface Entry {
  value: string;
  /** epoch ms, or undefined for no expiry */
  expiresAt?: number;
}

export interface MemoryStoreOptions {
  prefix?: string;
  /** Bound on stored keys: the oldest are evicted first, so a long-running dev server cannot grow without end. */
  maxEntries?: number;
  now?: () => number;
}

/**
 * The in-process store: the embedded default and the fallback while Redis is unreachable.
 * Same semantics as the Redis scripts; JavaScript's single thread makes each operation atomic.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): KvStore {
  const prefix = options.prefix ?? "";
  const maxEntries = options.maxEntries ?? 50_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  const leases = new Map<string, Map<string, number>>();
  const breakers = new Map<string, BreakerSnapshot>();

  function read(key: string): Entry | undefined {
    const entry = entries.get(prefix + key);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= now()) {
      entries.delete(prefix + key);
      return undefined;
    }
    return entry;
  }

  function write(key: string, entry: Entry): void {
    entries.delete(prefix + key); // re-insert so Map order tracks recency of writes
    entries.set(prefix + key, entry);
    while (entries.size > maxEntries) {
      const oldest = entries.keys().next().value;
      if (oldest === undefined) break;
      entries.delete(oldest);
    }
  }

  function ttlOf(entry: Entry | undefined): number {
    if (!entry) return 0;
    return entry.expiresAt === undefined ? -1 : Math.max(0, entry.expiresAt - now());
  }

  function liveLeases(key: string): Map<string, number> {
    const holders = leases.get(prefix + key) ?? new Map<string, number>();
    const t = now();
    for (const [holder, expiresAt] of holders) if (expiresAt <= t) holders.delete(holder);
    if (holders.size === 0) leases.delete(prefix + key);
    return holders;
  }

  return {
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
    async decrementFloorZero(key) {
      const entry = read(key);
      const current = Number(entry?.value ?? 0);
      if (!entry || current <= 0) return 0;
      write(key, { value: String(current - 1), expiresAt: entry.expiresAt });
      return current - 1;
    },
    async counterGet(key) {
      return Number(read(key)?.value ?? 0);
    },
    async leaseAcquire(key, holder, capacity, leaseMs): Promise<LeaseResult> {
      const holders = liveLeases(key);
      if (!holders.has(holder) && holders.size >= capacity) return { acquired: false, holders: holders.size };
      holders.set(holder, now() + leaseMs);
      leases.set(prefix + key, holders);
      return { acquired: true, holders: holders.size };
    },
    async leaseRelease(key, holder) {
      liveLeases(key).delete(holder);
      if (leases.get(prefix + key)?.size === 0) leases.delete(prefix + key);
    },
    async leaseCount(key) {
      return liveLeases(key).size;
    },
    async genAdmit(input): Promise<GenAdmitResult> {
      const blocked = read(input.blockKey);
      if (blocked) return { outcome: "blocked", ttlMs: ttlOf(blocked) };
      if (input.checkCache) {
        const hit = read(input.cacheKey);
        if (hit) {
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
        holders.set(input.lease.holder, now() + input.lease.leaseMs);
        leases.set(prefix + input.lease.key, holders);
        leaseAcquired = true;
      }
      return { outcome: "ok", quotaCount, quotaTtlMs, leaseAcquired, holders: holders.size, probe };
    },
    async genSettle(input): Promise<GenSettleResult> {
      if (input.cache) write(input.cache.key, { value: input.cache.value, expiresAt: now() + input.cache.ttlSeconds * 1000 });
      liveLeases(input.lease.key).delete(input.lease.holder);
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
    async breakerWrite(key, state) {
      breakers.set(prefix + key, { state, failures: 0, openedAtMs: state === "open" ? now() : 0 });
    },
    async ping() {},
  };
}
