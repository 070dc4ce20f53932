import "server-only";
import { getHeapStatistics } from "node:v8";
import { getDb, pingDb } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { BREAKER_KEY } from "@/lib/generation/keys";
import { getKv } from "@/lib/kv";
import { withTimeout } from "@/lib/util/with-timeout";

export type CheckStatus = "pass" | "warn" | "fail";

export interface Check {
  status: CheckStatus;
  /** Milliseconds the check took. */
  responseTime: number;
  /** What was observed (e.g. "postgres", "fallback"); safe to show to anyone. */
  observedValue?: string;
  /** Error detail: only shown to holders of the metrics token. */
  output?: string;
}

export interface Readiness {
  status: CheckStatus;
  version: string;
  time: string;
  checks: Record<"database" | "redis" | "openai" | "memory", Check>;
}

async function timed(work: () => Promise<Omit<Check, "responseTime">>): Promise<Check> {
  const started = performance.now();
  try {
    const result = await work();
    return { ...result, responseTime: Math.round(performance.now() - started) };
  } catch (error) {
    return {
      status: "fail",
      responseTime: Math.round(performance.now() - started),
      output: error instanceof Error ? error.message : String(error),
    };
  }
}

async function runChecks(): Promise<Readiness> {
  const env = getEnv();
  const timeout = env.HEALTH_CHECK_TIMEOUT_MS;
  const [database, redis, openai, memory] = await Promise.all([
    timed(async () => {
      const db = await withTimeout(getDb(), timeout, "database open");
      await pingDb(db, timeout);
      return { status: "pass", observedValue: db.kind };
    }),
    timed(async () => {
      const kv = getKv();
      if (kv.kind === "memory") return { status: "pass", observedValue: "memory" };
      try {
        await withTimeout(kv.ping(), timeout, "redis ping");
      } catch (error) {
        // Requests are still served from the in-memory fallback: degraded, not down.
        return {
          status: "warn",
          observedValue: "fallback",
          output: error instanceof Error ? error.message : String(error),
        };
      }
      // Redis answers, but until this instance's fallback window ends its quotas and leases are
      // still its own, not shared: still degraded.
      const { mode, since } = kv.status();
      return mode === "fallback"
        ? { status: "warn", observedValue: "fallback", output: `Redis answers; this instance returns to it after REDIS_RETRY_AFTER_MS (on the fallback since ${new Date(since ?? 0).toISOString()})` }
        : { status: "pass", observedValue: "upstash" };
    }),
    timed(async () => {
      // The breaker's shared state, never a model call: open means captions fail fast (degraded).
      if (!env.OPENAI_API_KEY) return { status: "pass", observedValue: "offline" };
      const breaker = await withTimeout(getKv().breakerRead(BREAKER_KEY), timeout, "breaker read");
      return breaker.state === "open"
        ? { status: "warn", observedValue: "breaker open", output: `open since ${new Date(breaker.openedAtMs).toISOString()}` }
        : { status: "pass", observedValue: "breaker closed" };
    }),
    timed(async () => {
      const heap = getHeapStatistics();
      const ratio = heap.used_heap_size / heap.heap_size_limit;
      return {
        status: ratio > 0.9 ? "warn" : "pass",
        observedValue: `${Math.round(ratio * 100)}% heap`,
      };
    }),
  ]);
  const checks = { database, redis, openai, memory };
  const statuses = Object.values(checks).map((c) => c.status);
  const status: CheckStatus = statuses.includes("fail") ? "fail" : statuses.includes("warn") ? "warn" : "pass";
  return { status, version: env.APP_VERSION, time: new Date().toISOString(), checks };
}

const globalForCache = globalThis as unknown as {
  __litstatusReadiness?: { at: number; result: Promise<Readiness> };
};

/**
 * Readiness, cached for HEALTH_CACHE_MS (≤ 5 s) so a burst of monitor hits costs one round of
 * checks; concurrent callers share the round in flight.
 */
export function getReadiness(now = Date.now()): Promise<Readiness> {
  const cached = globalForCache.__litstatusReadiness;
  if (cached && now - cached.at < getEnv().HEALTH_CACHE_MS) return cached.result;
  const result = runChecks();
  globalForCache.__litstatusReadiness = { at: now, result };
  return result;
}

/** Readiness for the public: statuses and timings, with error details removed. */
export function redact(readiness: Readiness): Readiness {
  const checks = Object.fromEntries(
    Object.entries(readiness.checks).map(([name, check]) => {
      const { output: _output, ...rest } = check;
      return [name, rest];
    }),
  ) as Readiness["checks"];
  return { ...readiness, checks };
}
