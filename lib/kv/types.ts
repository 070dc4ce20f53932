/**
 * The Redis store port: domain operations, not raw commands. Each operation is one round trip
 * on Redis (a Lua script or a single command) and has the same semantics in memory.
 * Keys are given without the deployment prefix; implementations add it.
 */

export interface CounterResult {
  /** Whether this call counted (false: the limit was already reached and nothing changed). */
  allowed: boolean;
  /** The counter after this call. */
  count: number;
  /** Milliseconds until the counter expires (-1 when it has no expiry, 0 when absent). */
  ttlMs: number;
}

export interface LeaseResult {
  acquired: boolean;
  /** Live leases after this call. */
  holders: number;
}

/** Keys and limits for one generation's admission; see GEN_ADMIT in scripts.ts for the order. */
export interface GenAdmitInput {
  cacheKey: string;
  /** false for `regenerate`: skip the cache read. */
  checkCache: boolean;
  blockKey: string;
  breakerKey: string;
  probeKey: string;
  /** A Redis-kept quota (guests); omit when the quota lives in Postgres (users). */
  quota?: { key: string; limit: number; expireAtMs: number };
  lease: { key: string; holder: string; capacity: number; leaseMs: number };
  breakerCooldownMs: number;
  probeLeaseMs: number;
  /** Admit even while the breaker is open (a call to the fallback model, which the breaker does not guard). */
  skipBreaker?: boolean;
}

export type GenAdmitResult =
  | { outcome: "blocked"; ttlMs: number }
  /** A cache hit; the quota is read, not spent (0 when no quota was given). */
  | { outcome: "hit"; value: string; quotaCount: number; quotaTtlMs: number }
  | { outcome: "open"; retryAfterMs: number }
  | { outcome: "quota_denied"; count: number; ttlMs: number }
  | {
      outcome: "ok";
      /** Quota after reserving (0 when no quota was given). */
      quotaCount: number;
      quotaTtlMs: number;
      leaseAcquired: boolean;
      holders: number;
      /** This request is the half-open breaker's single probe. */
      probe: boolean;
    };

export interface GenSettleInput {
  cache?: { key: string; value: string; ttlSeconds: number };
  lease: { key: string; holder: string };
  /** Give back the reserved Redis quota (upstream failure, busy, blocked content). */
  refundQuotaKey?: string;
  breaker: { key: string; probeKey: string; outcome: "success" | "failure" | "none"; threshold: number; wasProbe: boolean };
}

export type BreakerState = "closed" | "open";

export interface GenSettleResult {
  transition: "opened" | "closed" | null;
  state: BreakerState;
}

export interface BreakerSnapshot {
  state: BreakerState;
  failures: number;
  openedAtMs: number;
}

export interface KvStore {
  readonly kind: "upstash" | "memory";
  cacheGet(key: string): Promise<string | null>;
  cacheSet(key: string, value: string, ttlSeconds: number): Promise<void>;
  cacheDelete(key: string): Promise<void>;
  /**
   * Adds one to the counter unless it already holds `limit`; never overshoots under any
   * concurrency. The first increment sets the key to expire at `expireAtMs` (epoch ms).
   */
  incrementWithinLimit(key: string, limit: number, expireAtMs: number): Promise<CounterResult>;
  /** Takes one back (a refund), never below zero; the expiry is kept. Returns the new value. */
  decrementFloorZero(key: string): Promise<number>;
  /** Reads a counter without changing it. */
  counterGet(key: string): Promise<number>;
  /**
   * Takes one of `capacity` slots for `holder`, leased for `leaseMs`; expired leases (a dead
   * instance's) are dropped first. Acquiring again as the same holder renews the lease.
   */
  leaseAcquire(key: string, holder: string, capacity: number, leaseMs: number): Promise<LeaseResult>;
  leaseRelease(key: string, holder: string): Promise<void>;
  /** Live leases right now. */
  leaseCount(key: string): Promise<number>;
  /** Generation admission in one round trip (blocklist, cache, breaker, quota, lease). */
  genAdmit(input: GenAdmitInput): Promise<GenAdmitResult>;
  /** Generation settlement in one round trip (cache write, lease release, refund, breaker). */
  genSettle(input: GenSettleInput): Promise<GenSettleResult>;
  breakerRead(key: string): Promise<BreakerSnapshot>;
  /** Writes the breaker state directly (operator reset / force-open). */
  breakerWrite(key: string, state: BreakerState): Promise<void>;
  ping(): Promise<void>;
}
