import "server-only";
import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/http/errors";
import { createMemoryStore } from "@/lib/kv/memory-store";
import type { KvStore } from "@/lib/kv/types";
import { logFor } from "@/lib/observability/logger";
import { countKvRoundTrip } from "@/lib/observability/request-stats";

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

interface Limiters {
  limits: Record<LimitName, number>;
  upstash?: Record<LimitName, Ratelimit>;
  memory: KvStore;
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
    const redis = new Redis({
      url: env.UPSTASH_REDIS_REST_URL,
      token: env.UPSTASH_REDIS_REST_TOKEN,
      enableAutoPipelining: false,
      retry: { retries: 0 },
      signal: () => AbortSignal.timeout(env.REDIS_TIMEOUT_MS),
      enableTelemetry: false,
    });
    const make = (name: LimitName) =>
      new Ratelimit({
        redis,
        limiter: Ratelimit.slidingWindow(limits[name], "60 s"),
        prefix: `${env.REDIS_KEY_PREFIX}rate-limit:${name}`,
        timeout: env.RATE_LIMIT_TIMEOUT_MS,
        analytics: false,
        enableProtection: false,
      });
    upstash = { generate: make("generate"), api: make("api"), signin: make("signin") };
  }
  globalForLimits.__litstatusLimiters = { limits, upstash, memory: createMemoryStore({ prefix: env.REDIS_KEY_PREFIX, maxEntries: 100_000 }) };
  return globalForLimits.__litstatusLimiters;
}

/** Fixed one-minute windows on the in-memory store: the embedded limiter and the fallback. */
async function memoryLimit(store: KvStore, name: LimitName, id: string, limit: number, nowMs: number): Promise<LimitDecision> {
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
    countKvRoundTrip();
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
    onLimited?.();
    throw new AppError("rate_limited", undefined, {
      retryAfterSeconds: Math.max(1, Math.ceil((decision.resetAtMs - Date.now()) / 1000)),
    });
  }
  return decision;
}
