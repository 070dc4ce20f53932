/**
 * A Redis outage (real stores only: the Upstash REST server in front of Redis is stopped and
 * restarted): requests keep being answered from the in-memory fallback (200 or 4xx, never 5xx),
 * readiness degrades to `warn` with HTTP 200, and once Redis is back (after
 * REDIS_RETRY_AFTER_MS) the app returns to it.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis as IORedis } from "ioredis";
import { getEnv } from "@/lib/env";
import { guestQuotaKey, utcDay } from "@/lib/quota";
import { startTestApp, type TestApp } from "@/e2e/support/harness/app-harness";

interface Readiness {
  status: "pass" | "warn" | "fail";
  checks: Record<"database" | "redis" | "openai" | "memory", { status: string; observedValue?: string }>;
}

const RETRY_AFTER_MS = 300;

let seq = 0;
const nextIp = () => `198.51.100.${++seq}`;

describe.skipIf(!process.env.TEST_REDIS_URL)("Redis outage (real stores)", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({
      REDIS_RETRY_AFTER_MS: String(RETRY_AFTER_MS),
      REDIS_TIMEOUT_MS: "1000",
      RATE_LIMIT_TIMEOUT_MS: "300",
      GUEST_DAILY_LIMIT: "1000",
    });
  });
  afterAll(async () => {
    await app.close();
  });

  async function readiness(): Promise<{ status: number; body: Readiness }> {
    const res = await app.request("GET", "/api/health/ready", { ip: nextIp() });
    expect(res.headers.get("content-type")).toContain("application/health+json");
    return { status: res.status, body: (await res.json()) as Readiness };
  }

  /** One generation; a guest or (every third) a signed-in user. */
  async function generate(i: number, token?: string): Promise<number> {
    const res = await app.generate(
      { text: `outage request ${i} ${seq}`, mode: "standard", lang: "en" },
      { ip: nextIp(), ...(token ? { token } : {}) },
    );
    await res.arrayBuffer();
    return res.status;
  }

  it("keeps answering through the outage, reports warn, and goes back to Redis afterwards", async () => {
    const { token } = await app.signUp();
    // Before: on Redis.
    expect(await generate(0)).toBe(200);
    expect(app.kv.status().mode).toBe("primary");
    const before = await readiness();
    expect(before.status).toBe(200);
    expect(before.body.checks.redis.status).toBe("pass");

    // Requests in flight while Redis goes away.
    app.fake.set({ latencyMs: 150 });
    const statuses: number[] = [];
    const running = Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        await sleep(i * 15);
        statuses.push(await generate(i, i % 3 === 0 ? token : undefined));
      }),
    );
    await sleep(120);
    await app.rest!.stop();
    await running;
    expect(statuses).toHaveLength(24);
    for (const status of statuses) expect(status).toBeLessThan(500);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);

    // During: served from the fallback; readiness is degraded, not failed.
    app.fake.set({ latencyMs: 0 });
    for (let i = 0; i < 5; i++) expect(await generate(100 + i, i % 2 ? token : undefined)).toBe(200);
    expect(app.kv.status().mode).toBe("fallback");
    const during = await readiness();
    expect(during.status).toBe(200);
    expect(during.body.checks.redis.status).toBe("warn");
    expect(during.body.status).toBe("warn");
    const quota = await app.request("GET", "/api/quota", { ip: nextIp() });
    expect(quota.status).toBe(200);

    // After: Redis is back; after REDIS_RETRY_AFTER_MS the next operation probes it and stays.
    await app.rest!.restart();
    await sleep(RETRY_AFTER_MS + 100);
    expect(await generate(200)).toBe(200);
    expect(await generate(201, token)).toBe(200);
    expect(app.kv.status().mode).toBe("primary");
    const after = await readiness();
    expect(after.status).toBe(200);
    expect(after.body.checks.redis.status).toBe("pass");
    expect(after.body.status).toBe("pass");
    // Really on Redis again: a guest's quota counted now is in Redis itself.
    const ip = nextIp();
    expect((await app.generate({ text: "back on redis", mode: "standard", lang: "en" }, { ip })).status).toBe(200);
    const redis = new IORedis(process.env.TEST_REDIS_URL!, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      expect(await redis.get(`${getEnv().REDIS_KEY_PREFIX}${guestQuotaKey(ip, utcDay(Date.now()))}`)).toBe("1");
    } finally {
      redis.disconnect();
    }
  });
});
