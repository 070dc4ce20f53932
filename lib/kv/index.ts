import "server-only";
import { getEnv } from "@/lib/env";
import { createMemoryStore } from "./memory-store";
import { createResilientStore, type KvStatus } from "./resilient-store";
import type { KvStore } from "./types";
import { createUpstashStore } from "./upstash-store";

export type { BlockEntry, CounterResult, KvStore, LeaseHolder, LeaseResult } from "./types";
export type { KvStatus };

export type AppKv = KvStore & { status(): KvStatus };

const globalForKv = globalThis as unknown as { __litstatusKv?: AppKv };

function openKv(): AppKv {
  const env = getEnv();
  const prefix = env.REDIS_KEY_PREFIX;
  if (env.UPSTASH_REDIS_REST_URL && env.UPSTASH_REDIS_REST_TOKEN) {
    return createResilientStore({
      primary: createUpstashStore({
        url: env.UPSTASH_REDIS_REST_URL,
        token: env.UPSTASH_REDIS_REST_TOKEN,
        prefix,
        timeoutMs: env.REDIS_TIMEOUT_MS,
      }),
      fallback: createMemoryStore({ prefix }),
      retryAfterMs: env.REDIS_RETRY_AFTER_MS,
    });
  }
  // Embedded mode: memory is the store of record, so it is always the "primary".
  return { ...createMemoryStore({ prefix }), status: () => ({ mode: "primary" }) };
}

/**
 * The process-wide store, kept on globalThis so hot reload keeps counters, leases and the
 * fallback state. Upstash (behind the in-memory fallback) when UPSTASH_REDIS_REST_URL is set,
 * else the in-memory store alone.
 */
export function getKv(): AppKv {
  globalForKv.__litstatusKv ??= openKv();
  return globalForKv.__litstatusKv;
}
