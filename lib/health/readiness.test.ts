import { afterEach, describe, expect, it } from "vitest";
import { GET as health } from "@/app/api/health/route";
import { GET as ready } from "@/app/api/health/ready/route";
import { getDb } from "@/lib/db";
import { BREAKER_KEY } from "@/lib/generation/keys";
import { getKv } from "@/lib/kv";
import { createMemoryStore } from "@/lib/kv/memory-store";
import { createResilientStore } from "@/lib/kv/resilient-store";
import type { KvStore } from "@/lib/kv/types";
import { applyTestEnv } from "@/e2e/support/harness/env";
import { openPgliteCopy } from "@/e2e/support/harness/pglite-template";

const noParams = { params: Promise.resolve({}) };

interface ReadyBody {
  status: string;
  checks: Record<string, { status: string; responseTime: number; observedValue?: string; output?: string }>;
}

async function readiness(headers: Record<string, string> = {}) {
  const res = await ready(new Request("http://x/api/health/ready", { headers }), noParams);
  return { res, body: (await res.json()) as ReadyBody };
}

describe("health endpoints", () => {
  afterEach(async () => {
    const db = await getDb().catch(() => undefined);
    await db?.close();
    applyTestEnv();
  });

  it("liveness answers without touching any dependency", async () => {
    applyTestEnv({ DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" });
    const res = await health(new Request("http://x/api/health"), noParams);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; timestamp: string; version: string };
    expect(body.status).toBe("ok");
    expect(new Date(body.timestamp).toISOString()).toBe(body.timestamp);
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("readiness passes on the embedded stores", async () => {
    applyTestEnv();
    // The embedded default persists to disk; tests open an in-memory database instead.
    // Opened before the check: the check's own time budget is for a query, not for a start-up.
    (globalThis as Record<string, unknown>).__litstatusDb = Promise.resolve(await openPgliteCopy(false));
    const { res, body } = await readiness();
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/health+json");
    expect(body.status).toBe("pass");
    expect(Object.keys(body.checks).sort()).toEqual(["database", "memory", "openai", "redis"]);
    for (const check of Object.values(body.checks)) expect(check.responseTime).toBeGreaterThanOrEqual(0);
    expect(body.checks.redis?.observedValue).toBe("memory");
    expect(body.checks.openai?.observedValue).toBe("offline");
  });

  it("an unreachable database is fail with 503, details only for the metrics token", async () => {
    applyTestEnv({ DATABASE_URL: "postgres://nobody@127.0.0.1:1/none", METRICS_TOKEN: "m".repeat(24), HEALTH_CACHE_MS: "0" });
    const anonymous = await readiness();
    expect(anonymous.res.status).toBe(503);
    expect(anonymous.body.status).toBe("fail");
    expect(anonymous.body.checks.database?.status).toBe("fail");
    expect(anonymous.body.checks.database?.output).toBeUndefined();
    const operator = await readiness({ authorization: `Bearer ${"m".repeat(24)}` });
    expect(operator.body.checks.database?.output).toMatch(/ECONNREFUSED|connect/i);
    const wrongToken = await readiness({ authorization: "Bearer nope" });
    expect(wrongToken.body.checks.database?.output).toBeUndefined();
  });

  it("Redis unreachable with the fallback active is warn (200)", async () => {
    applyTestEnv({ UPSTASH_REDIS_REST_URL: "http://127.0.0.1:1", UPSTASH_REDIS_REST_TOKEN: "t", REDIS_TIMEOUT_MS: "200" });
    // Opened before the check: the check's own time budget is for a query, not for a start-up.
    (globalThis as Record<string, unknown>).__litstatusDb = Promise.resolve(await openPgliteCopy(false));
    const { res, body } = await readiness();
    expect(res.status).toBe(200);
    expect(body.status).toBe("warn");
    expect(body.checks.redis).toMatchObject({ status: "warn", observedValue: "fallback" });
  });

  it("Redis answering while this instance still serves from its fallback is warn, and pass once it is back", async () => {
    applyTestEnv({ HEALTH_CACHE_MS: "0" });
    // Opened before the first check: only Redis is under test, not how fast PGlite boots.
    (globalThis as Record<string, unknown>).__litstatusDb = Promise.resolve(await openPgliteCopy(false));
    // A primary that answers pings but failed one operation: the instance is on its fallback.
    let failing = true;
    const backing = createMemoryStore();
    const primary: KvStore = {
      ...backing,
      kind: "upstash",
      cacheGet: async (key) => {
        if (failing) throw new Error("connect ECONNREFUSED");
        return backing.cacheGet(key);
      },
    };
    let t = 1_000_000;
    const log = { warn: () => undefined, info: () => undefined };
    const kv = createResilientStore({ primary, fallback: createMemoryStore(), retryAfterMs: 5000, now: () => t, log });
    (globalThis as Record<string, unknown>).__litstatusKv = kv;
    await kv.cacheGet("trip");
    failing = false;
    const during = await readiness();
    expect(during.res.status).toBe(200);
    expect(during.body.checks.redis).toMatchObject({ status: "warn", observedValue: "fallback" });
    t += 5000;
    const after = await readiness();
    expect(after.body.checks.redis).toMatchObject({ status: "pass", observedValue: "upstash" });
    expect(kv.status()).toEqual({ mode: "primary" });
  });

  it("caches the result for HEALTH_CACHE_MS", async () => {
    applyTestEnv({ DATABASE_URL: "postgres://nobody@127.0.0.1:1/none", HEALTH_CACHE_MS: "5000" });
    const first = await readiness();
    const second = await readiness();
    expect(second.body).toEqual(first.body);
  });
});

describe("readiness: the model check reads the shared breaker", () => {
  afterEach(() => {
    applyTestEnv();
  });

  it("is pass while the breaker is closed and warn while it is open", async () => {
    applyTestEnv({ OPENAI_API_KEY: "sk-test", HEALTH_CACHE_MS: "0" });
    // Opened before the check: the check's own time budget is for a query, not for a start-up.
    (globalThis as Record<string, unknown>).__litstatusDb = Promise.resolve(await openPgliteCopy(false));
    const closed = await readiness();
    expect(closed.body.checks.openai).toMatchObject({ status: "pass", observedValue: "breaker closed" });
    await getKv().breakerWrite(BREAKER_KEY, "open");
    const open = await readiness();
    expect(open.res.status).toBe(200);
    expect(open.body.status).toBe("warn");
    expect(open.body.checks.openai).toMatchObject({ status: "warn", observedValue: "breaker open" });
    await (await getDb()).close();
  });
});
