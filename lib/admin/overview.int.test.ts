/**
 * GET /api/admin/overview through the real route: requests the app served show up in the shared
 * series once flushed, generations and fixture security events in today's counts, the breaker
 * and the in-flight lease set from the store, and queued generations summed over the instances
 * that published theirs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "@/e2e/support/harness/app-harness";
import { BREAKER_KEY, INFLIGHT_KEY } from "@/lib/generation/keys";
import { createSeriesWriter, seriesWriter } from "@/lib/observability/series";
import type { Overview } from "./overview";

let app: TestApp;
let admin: { userId: string; token: string };
let moderator: { userId: string; token: string };
let user: { userId: string; token: string };

async function overview(token = moderator.token): Promise<Overview> {
  await seriesWriter().flush();
  const res = await app.request("GET", "/api/admin/overview", { token });
  expect(res.status).toBe(200);
  return (await res.json()) as Overview;
}

beforeAll(async () => {
  app = await startTestApp();
  admin = await app.signUp("ov-admin@example.test");
  moderator = await app.signUp("ov-mod@example.test");
  user = await app.signUp();
  await app.db.query(`update litstatus.profiles set role = 'admin' where user_id = $1`, [admin.userId]);
  await app.db.query(`update litstatus.profiles set role = 'moderator' where user_id = $1`, [moderator.userId]);
});

afterAll(async () => {
  await app?.close();
});

describe("GET /api/admin/overview", () => {
  it("is for moderators and admins: 401 signed out, 403 for a user, 400 on an unknown query", async () => {
    expect((await app.request("GET", "/api/admin/overview")).status).toBe(401);
    expect((await app.request("GET", "/api/admin/overview", { token: user.token })).status).toBe(403);
    expect((await app.request("GET", "/api/admin/overview?window=1", { token: moderator.token })).status).toBe(400);
    expect((await app.request("DELETE", "/api/admin/overview", { token: admin.token })).status).toBe(405);
  });

  it("counts the requests every route served, with latency percentiles and a 24 h chart", async () => {
    const before = await overview();
    for (let i = 0; i < 4; i++) expect((await app.request("GET", "/api/quota", { token: user.token })).status).toBe(200);
    expect((await app.request("GET", "/api/admin/overview", { token: user.token })).status).toBe(403);
    const after = await overview();
    // The first overview itself, 4 quota reads and one 403: 6 more requests.
    expect(after.last5m.requests - before.last5m.requests).toBe(6);
    expect(after.last24h.requests - before.last24h.requests).toBe(6);
    expect(after.last5m.errors).toBe(0);
    expect(after.last5m.errorRate).toBe(0);
    expect(after.last5m.p50Ms).toBeGreaterThan(0);
    expect(after.last5m.p95Ms).toBeGreaterThanOrEqual(after.last5m.p50Ms!);
    expect(after.series.bucketMinutes).toBe(15);
    expect(after.series.points).toHaveLength(96);
    const last = after.series.points.at(-1)!;
    // The last two buckets: the requests may straddle a 15-minute boundary.
    expect(last.requests + after.series.points.at(-2)!.requests).toBeGreaterThanOrEqual(6);
    expect(last.ok + last.clientErrors + last.rateLimited + last.errors).toBe(last.requests);
    expect(Date.parse(last.at)).toBeLessThanOrEqual(Date.now());
  });

  it("shows today's generations, quota denials and rate-limit hits, and the cache hit rate", async () => {
    const text = "A quiet morning by the lake with coffee";
    expect((await app.generate({ text, mode: "standard", lang: "en" }, { token: user.token })).status).toBe(200);
    expect((await app.generate({ text, mode: "standard", lang: "en" }, { token: user.token })).status).toBe(200);
    await app.flush();
    const now = new Date().toISOString();
    await app.db.query(
      `insert into litstatus.security_events (event_type, severity, created_at)
       select t, 'info', $1::timestamptz from unnest(array['quota_exceeded', 'quota_exceeded', 'rate_limited', 'rate_limited', 'rate_limited']) as t`,
      [now],
    );
    const o = await overview();
    expect(o.today).toEqual({ generations: 2, completed: 2, failed: 0, quotaDenials: 2, rateLimitHits: 3 });
    expect(o.cache).toEqual({ hitRate: 0.5, hits: 1, completed: 2 });
  });

  it("shows dependency health, the breaker and the in-flight leases of all instances", async () => {
    let o = await overview();
    expect(o.health.checks.database.status).toBe("pass");
    expect(o.health.checks.redis.status).toBe("pass");
    expect(o.store).toEqual({ kind: app.mode === "real" ? "upstash" : "memory", mode: "primary" });
    expect(o.breaker).toMatchObject({ state: "closed", openedAt: null });
    expect(o.inflight).toBe(0);

    await app.kv.breakerWrite(BREAKER_KEY, "open");
    await app.kv.leaseAcquire(INFLIGHT_KEY, "other-instance:1", 100, 60_000);
    await app.kv.leaseAcquire(INFLIGHT_KEY, "other-instance:2", 100, 60_000);
    try {
      o = await overview();
      expect(o.breaker.state).toBe("open");
      expect(Date.parse(o.breaker.openedAt!)).toBeLessThanOrEqual(Date.now());
      expect(o.health.checks.openai).toMatchObject({ status: "warn", observedValue: "breaker open" });
      expect(o.inflight).toBe(2);
    } finally {
      await app.kv.breakerWrite(BREAKER_KEY, "closed");
      await app.kv.leaseRelease(INFLIGHT_KEY, "other-instance:1");
      await app.kv.leaseRelease(INFLIGHT_KEY, "other-instance:2");
    }
    expect((await overview()).breaker.state).toBe("closed");
  });

  it("sums the queued generations each instance published (fresh samples only)", async () => {
    await overview(); // this instance registers its gauges and publishes them with the flush
    const other = createSeriesWriter({ kv: () => app.kv, instance: "other-instance" });
    other.setGaugeSource(() => ({ queued: 3, running: 1 }));
    await other.flush();
    const o = await overview();
    expect(o.queued).toBe(3);
    expect(o.instancesReporting).toBe(2);
  });

  it("gives readiness error details to admins only", async () => {
    const fromAdmin = await overview(admin.token);
    const fromModerator = await overview(moderator.token);
    expect(fromAdmin.health.status).toBe(fromModerator.health.status);
    for (const check of Object.values(fromModerator.health.checks)) expect(check).not.toHaveProperty("output");
  });
});
