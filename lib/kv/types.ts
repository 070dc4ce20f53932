/**
 * The Redis store port: domain operations, not raw commands. Each operation is one round trip
 * on Redis (a Lua script or a single command) and has the same semantics in memory.
 * Keys are given without the deployment prefix; implementations add it.
 *
 * Every implementation counts its own round trips into the request's stats
 * (lib/observability/request-stats): Redis each HTTP request it sends, memory each operation.
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

/** One live lease (the console's in-flight list). */
export interface LeaseHolder {
  holder: string;
  /** When this holder first took the lease (renewals keep it), epoch ms. */
  sinceMs: number;
  expiresAtMs: number;
}

/** One IP blocklist entry, kept in the `blocklist` hash (field = id, value = this as JSON). */
export interface BlockEntry {
  /** Opaque and unique; the caller makes it (e.g. randomUUID). */
  id: string;
  /** A normalised IP ("203.0.113.7", "2001:db8::1") or CIDR ("203.0.113.0/24"). */
  target: string;
  /** At most 500 characters. */
  reason: string;
  createdBy: string | null;
  createdAtMs: number;
  /** Every entry has a TTL. */
  expiresAtMs: number;
}

/** The hash holding the blocklist (with the deployment prefix: `HGETALL <prefix>blocklist`). */
export const BLOCKLIST_KEY = "blocklist";

/** Keys and limits for one generation's admission; see GEN_ADMIT in scripts.ts for the order. */
export interface GenAdmitInput {
  cacheKey: string;
  /** false for `regenerate`: skip the cache read. */
  checkCache: boolean;
  breakerKey: string;
  probeKey: string;
  /** A Redis-kept quota (guests); omit when the quota lives in Postgres (users). */
  quota?: { key: string; limit: number; expireAtMs: number };
  lease: { key: string; holder: string; capacity: number; leaseMs: number };
  breakerCooldownMs: number;
  probeLeaseMs: number;
  /** Admit even while the breaker is open (a call to the fallback model, which the breaker does not guard). */
  skipBreaker?: boolean;
  /**
   * Cache statistics counters (the console's hit rate), bumped inside the same round trip: a
   * hit counts in `hitsKey`; a miss that gets past the breaker counts in `missesKey` (a lookup
   * answered "open" is not counted: it is retried with the fallback model's key, or refused).
   * Each counter expires at `expireAtMs` (set on its first increment). Only when `checkCache`.
   */
  stats?: { hitsKey: string; missesKey: string; expireAtMs: number };
}

export type GenAdmitResult =
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
  /** Live leases right now, soonest to expire first (expired ones are dropped). */
  leaseList(key: string): Promise<LeaseHolder[]>;
  /** Generation admission in one round trip (cache, breaker, quota, lease). */
  genAdmit(input: GenAdmitInput): Promise<GenAdmitResult>;
  /** Generation settlement in one round trip (cache write, lease release, refund, breaker). */
  genSettle(input: GenSettleInput): Promise<GenSettleResult>;
  breakerRead(key: string): Promise<BreakerSnapshot>;
  /**
   * Writes the breaker state directly (operator reset / force-open), failures zeroed. `open`
   * forces an open breaker to stay open for `forMs` from now on the store's clock (it is
   * recorded as opened at now + forMs - cooldownMs, so admission, which waits `cooldownMs`
   * from the opening, lets the half-open probe through after exactly `forMs`).
   */
  breakerWrite(key: string, state: BreakerState, open?: { forMs: number; cooldownMs: number }): Promise<void>;
  /**
   * One step of a scan over the string keys (cache entries, counters) whose name starts with
   * `prefix`: counts them, or deletes them when `remove`. Start with cursor "0"; the scan is
   * done when the returned cursor is "0" (the memory store answers in one step). Lease sets,
   * the breaker and the blocklist are other types and never included. A key may be counted
   * twice by a scan that overlaps a resize of Redis' table; deletions are counted exactly.
   */
  scanKeys(prefix: string, cursor: string, remove: boolean): Promise<{ cursor: string; count: number }>;
  /** Adds (or replaces, by id) a blocklist entry. */
  blocklistAdd(entry: BlockEntry): Promise<void>;
  /** Removes an entry; true when it existed. */
  blocklistRemove(id: string): Promise<boolean>;
  /** Entries unexpired at `nowMs`, in no particular order; expired ones are deleted on the way. */
  blocklistList(nowMs: number): Promise<BlockEntry[]>;
  /**
   * Shared series and small shared state (console overview, alerts). Adds each integer
   * increment to its field of the hash `key` (HINCRBY), then sets the hash to expire
   * `ttlSeconds` from now.
   */
  hashIncrement(key: string, increments: Record<string, number>, ttlSeconds: number): Promise<void>;
  /** Every field of each hash, in the order of `keys` (`{}` for an absent one), in one round trip. */
  hashReadMany(keys: string[]): Promise<Record<string, string>[]>;
  /**
   * Sets `field` of the hash `key` to `value` and the hash to expire `ttlSeconds` from now.
   * With `expected` (a compare-and-set): only when the field currently holds `expected`
   * (`null`: the field is absent). True when it was written.
   */
  hashSet(key: string, field: string, value: string, ttlSeconds: number, expected?: string | null): Promise<boolean>;
  /** Sets `key` to `value` with a TTL unless it exists (SET NX EX); true when this call set it. */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  ping(): Promise<void>;
}
