import "server-only";
import { Ratelimit } from "@upstash/ratelimit";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { createMemoryStore, type MemoryStore, type MemoryStoreSizes } from "@/lib/kv/memory-store";
import { createUpstashClient } from "@/lib/kv/upstash-client";
import { logFor } from "@/lib/observability/logger";
import { countRateLimitHit } from "@/lib/observability/metrics";
import { LruMap } from "@/lib/util/lru-map";

/**
 * Burst rate limits (`rate-limit:*` keys, one-minute windows), per IP for guests and per user
 * for signed-in callers: `generate` for POST /api/generate, `signin` for sign-in link requests
 * (each may send an email), `api` for every other public route.
 *
 * Policy when Redis does not answer within RATE_LIMIT_TIMEOUT_MS: @upstash/ratelimit lets the
 * request through (`reason: "timeout"`), and so do we when it throws. That is deliberate:
 * burst limits protect capacity, not money; quotas (which fail over to the in-memory store)
 * and the global in-flight cap still bound spending. Each fail-open is logged at warn, and the
 * in-memory limiter keeps limiting this instance while Redis is away.
 */
export type LimitName = "generate" | "api" | "signin";

export interface LimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  resetAtMs: number;
  /** Why an allowed decision was not checked against Redis. */
  failOpen?: "timeout" | "error";
}

const WINDOW_MS = 60_000;
const LIMIT_NAMES: readonly LimitName[] = ["generate", "api", "signin"];

/**
 * Bound on the in-memory limiter's counters (one key per client per limit per minute window).
 * A key is ~150 bytes, so this stays under ~30 MiB whatever the number of clients; past it the
 * oldest windows go first, and those are the ones that no longer matter.
 */
export const RATE_LIMIT_MEMORY_MAX_ENTRIES = 100_000;
/**
 * Bound on each limiter's @upstash/ratelimit ephemeral cache (identifier → blocked-until, kept
 * for clients that hit their limit, so their next requests are refused without a round trip).
 * The library's default is an unbounded Map whose entries are only removed when the same
 * identifier comes back: one-shot clients that got limited would stay forever.
 */
export const RATE_LIMIT_EPHEMERAL_CACHE_MAX = 10_000;

/** One per limiter (the cache is keyed by identifier alone), created once per process. */
const ephemeralCaches: Record<LimitName, LruMap<string, number>> = {
  generate: new LruMap(RATE_LIMIT_EPHEMERAL_CACHE_MAX),
  api: new LruMap(RATE_LIMIT_EPHEMERAL_CACHE_MAX),
  signin: new LruMap(RATE_LIMIT_EPHEMERAL_CACHE_MAX),
};

interface Limiters {
  limits: Record<LimitName, number>;
  upstash?: Record<LimitName, Ratelimit>;
  memory: MemoryStore;
}

const globalForLimits = globalThis as unknown as { __litstatusLimiters?: Limiters };

function limiters(): Limiters {
  if (globalForLimits.__litstatusLimiters) return globalForLimits.__litstatusLimiters;
  const env = getEnv();
  const limits = {
    generate: env.RATE_LIMIT_GENERATE_PER_MIN,
    api: env.RATE_LIMIT_API_PER_MIN,
    signin: env.RATE_LIMIT_SIGNIN_PER_MIN,
  };
  let upstash: Limiters["upstash"];
  if (env.UPSTASH_REDIS_REST_URL && env.UPSTASH_REDIS_REST_TOKEN) {
    // Counted as kv round trips, and bounded per request like the store's (see createUpstashClient).
    const redis = createUpstashClient({
      url: env.UPSTASH_REDIS_REST_URL,
      token: env.UPSTASH_REDIS_REST_TOKEN,
      timeoutMs: env.REDIS_TIMEOUT_MS,
    });
    const make = (name: LimitName) =>
      new Ratelimit({
        redis,
        limiter: Ratelimit.slidingWindow(limits[name], "60 s"),
        prefix: `${env.REDIS_KEY_PREFIX}rate-limit:${name}`,
        timeout: env.RATE_LIMIT_TIMEOUT_MS,
        ephemeralCache: ephemeralCaches[name],
        analytics: false,
        enableProtection: false,
      });
    upstash = { generate: make("generate"), api: make("api"), signin: make("signin") };
  }
  globalForLimits.__litstatusLimiters = {
    limits,
    upstash,
    memory: createMemoryStore({ prefix: env.REDIS_KEY_PREFIX, maxEntries: RATE_LIMIT_MEMORY_MAX_ENTRIES }),
  };
  return globalForLimits.__litstatusLimiters;
}

/** Fixed one-minute windows on the in-memory store: the embedded limiter and the fallback. */
async function memoryLimit(store: MemoryStore, name: LimitName, id: string, limit: number, nowMs: number): Promise<LimitDecision> {
  const windowStart = Math.floor(nowMs / WINDOW_MS) * WINDOW_MS;
  const resetAtMs = windowStart + WINDOW_MS;
  const result = await store.incrementWithinLimit(`rate-limit:${name}:${id}:${windowStart}`, limit, resetAtMs);
  return { allowed: result.allowed, limit, remaining: Math.max(0, limit - result.count), resetAtMs };
}

export async function checkRateLimit(name: LimitName, identifier: string, nowMs = Date.now()): Promise<LimitDecision> {
  const { limits, upstash, memory } = limiters();
  const limit = limits[name];
  if (!upstash) return memoryLimit(memory, name, identifier, limit, nowMs);
  try {
    const res = await upstash[name].limit(identifier);
    if (res.reason === "timeout") {
      logFor("ratelimit").warn({ limiter: name }, "rate limiter timed out; request allowed (fail-open policy)");
      const local = await memoryLimit(memory, name, identifier, limit, nowMs);
      return { ...local, failOpen: "timeout" };
    }
    return { allowed: res.success, limit: res.limit, remaining: res.remaining, resetAtMs: res.reset };
  } catch (error) {
    logFor("ratelimit").warn(
      { limiter: name, error: error instanceof Error ? error.message.replace(/, command was: [\s\S]*$/, "") : String(error) },
      "rate limiter unavailable; limiting in memory on this instance",
    );
    const local = await memoryLimit(memory, name, identifier, limit, nowMs);
    return { ...local, failOpen: "error" };
  }
}

/** Throws 429 rate_limited with Retry-After when the caller is over its burst limit. */
export async function enforceRateLimit(
  name: LimitName,
  who: { userId?: string | null; ip: string | null },
  onLimited?: () => void,
): Promise<LimitDecision> {
  const identifier = who.userId ? `user:${who.userId}` : `ip:${who.ip ?? "unknown"}`;
  const decision = await checkRateLimit(name, identifier);
  if (!decision.allowed) {
    countRateLimitHit(name);
    onLimited?.();
    throw new AppError("rate_limited", undefined, {
      retryAfterSeconds: Math.max(1, Math.ceil((decision.resetAtMs - Date.now()) / 1000)),
    });
  }
  return decision;
}

/** What the limiters hold in this process, for tests of their bounds. */
export function rateLimiterSizes(): { memory: MemoryStoreSizes; ephemeral: Record<LimitName, number> } {
  const { memory } = limiters();
  const ephemeral = Object.fromEntries(LIMIT_NAMES.map((name) => [name, ephemeralCaches[name].size])) as Record<LimitName, number>;
  return { memory: memory.sizes(), ephemeral };
}
