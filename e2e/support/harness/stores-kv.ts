import { randomBytes } from "node:crypto";
import { Redis as IORedis } from "ioredis";
import { startUpstashRestServer, type UpstashRestServer } from "@/e2e/support/upstash-rest-server";
import { createMemoryStore } from "@/lib/kv/memory-store";
import type { KvStore } from "@/lib/kv/types";
import { createUpstashStore } from "@/lib/kv/upstash-store";

/** Generous: the contract suite fires a few hundred concurrent requests at one local server. */
export const TEST_KV_TIMEOUT_MS = 5000;

export interface TestKv {
  kv: KvStore;
  kind: "memory" | "upstash";
  /** The REST server in front of Redis (upstash only): stop/restart it, count round trips. */
  rest?: UpstashRestServer;
  /** Every key this run writes starts with it; stores made with a longer prefix are cleaned up too. */
  prefix: string;
  cleanup(): Promise<void>;
}

/** Deletes every key under `prefix` (glob-safe: the prefixes made here are hex and colons). */
export async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new IORedis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

/**
 * The store the real-store run tests against. With TEST_REDIS_URL: an Upstash store through the
 * Upstash REST test server in front of that Redis, under a unique key prefix that cleanup()
 * deletes. Without it: the memory store, unless TEST_REQUIRE_REAL=1 demands the real one.
 */
export async function openTestKv(): Promise<TestKv> {
  const redisUrl = process.env.TEST_REDIS_URL;
  const prefix = `t:${randomBytes(6).toString("hex")}:`;
  if (redisUrl) {
    const rest = await startUpstashRestServer({ redisUrl });
    const kv = createUpstashStore({ url: rest.url, token: rest.token, prefix, timeoutMs: TEST_KV_TIMEOUT_MS });
    return {
      kv,
      kind: "upstash",
      rest,
      prefix,
      cleanup: async () => {
        try {
          await deleteKeys(redisUrl, prefix);
        } finally {
          await rest.close();
        }
      },
    };
  }
  if (process.env.TEST_REQUIRE_REAL === "1") {
    throw new Error("TEST_REDIS_URL must be set for the real-store run");
  }
  return { kv: createMemoryStore({ prefix }), kind: "memory", prefix, cleanup: async () => {} };
}
