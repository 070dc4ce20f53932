/**
 * The operations console's API: breaker (state, reset, force-open honoured by the engine),
 * caption cache (keys, hit rate, flush of `gen:*` only) and in-flight leases, on both stores.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "@/e2e/support/harness/app-harness";
import { BREAKER_KEY, INFLIGHT_KEY } from "@/lib/generation/keys";
import { guestQuotaKey, nextUtcMidnightMs, utcDay } from "@/lib/quota";

let app: TestApp;
let admin: { userId: string; token: string };
let moderator: { userId: string; token: string };
let ipCounter = 0;
const freshIp = () => `198.51.100.${(ipCounter++ % 200) + 20}`;

const COOLDOWN_MS = 60_000;

async function auditActions(): Promise<string[]> {
  const rows = await app.db.query<{ action: string }>(`select action from litstatus.admin_audit_log order by id`);
  return rows.map((r) => r.action);
}

/** The `after` of the newest audit entry with `action` (jsonb read as text: drivers differ). */
async function lastAuditAfter(action: string): Promise<unknown> {
  const [row] = await app.db.query<{ after: string | null }>(
    `select after::text as after from litstatus.admin_audit_log where action = $1 order by id desc limit 1`,
    [action],
  );
  return row?.after ? (JSON.parse(row.after) as unknown) : undefined;
}

async function errorCode(res: Response): Promise<string | undefined> {
  return ((await res.json()) as { error?: { code?: string } }).error?.code;
}

beforeAll(async () => {
  app = await startTestApp({ BREAKER_COOLDOWN_MS: String(COOLDOWN_MS), GEN_CACHE_TTL_SECONDS: "600" });
  admin = await app.signUp();
  moderator = await app.signUp();
  await app.db.query(`update litstatus.profiles set role = 'admin' where user_id = $1`, [admin.userId]);
  await app.db.query(`update litstatus.profiles set role = 'moderator' where user_id = $1`, [moderator.userId]);
});
afterAll(async () => {
  await app?.close();
});
beforeEach(async () => {
  await app.kv.breakerWrite(BREAKER_KEY, "closed");
  app.fake.reset();
});

describe(`operations console API (${process.env.TEST_REDIS_URL ? "Redis" : "in-memory store"})`, () => {
  describe("breaker", () => {
    it("reads closed by default, for a moderator too", async () => {
      const res = await app.request("GET", "/api/admin/breaker", { token: moderator.token });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ state: "closed", failures: 0, openUntil: null, cooldownMs: COOLDOWN_MS });
    });

    it("force-open is honoured by the engine: 503 upstream_unavailable without calling the model; reset restores it", async () => {
      const res = await app.request("POST", "/api/admin/breaker", { token: admin.token, json: { action: "force-open", seconds: 120 } });
      expect(res.status).toBe(200);
      const view = (await res.json()) as { state: string; openUntil: string; remainingMs: number };
      expect(view.state).toBe("open");
      expect(view.remainingMs).toBeGreaterThan(110_000);
      expect(view.remainingMs).toBeLessThanOrEqual(120_000);
      expect(Date.parse(view.openUntil) - Date.now()).toBeGreaterThan(110_000);

      const calls = app.fake.stats().chatCalls;
      const refused = await app.generate({ text: `breaker forced ${Date.now()}`, mode: "standard", lang: "en" }, { ip: freshIp() });
      expect(refused.status).toBe(503);
      expect(await errorCode(refused)).toBe("upstream_unavailable");
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(100);
      expect(app.fake.stats().chatCalls).toBe(calls);

      const reset = await app.request("POST", "/api/admin/breaker", { token: admin.token, json: { action: "reset" } });
      expect(reset.status).toBe(200);
      expect(await reset.json()).toMatchObject({ state: "closed", failures: 0 });
      const ok = await app.generate({ text: `breaker reset ${Date.now()}`, mode: "standard", lang: "en" }, { ip: freshIp() });
      expect(ok.status).toBe(200);
      expect(app.fake.stats().chatCalls).toBe(calls + 1);

      const actions = await auditActions();
      expect(actions).toContain("breaker.force_open");
      expect(actions).toContain("breaker.reset");
      expect(await lastAuditAfter("breaker.force_open")).toMatchObject({ seconds: 120, state: "open" });
    });

    it("after a forced opening ends, the breaker is half-open and the next generation is its probe", async () => {
      // 1 s forced opening: the state reads half-open once it is over.
      await app.request("POST", "/api/admin/breaker", { token: admin.token, json: { action: "force-open", seconds: 1 } });
      await new Promise((r) => setTimeout(r, 1_100));
      const view = (await (await app.request("GET", "/api/admin/breaker", { token: admin.token })).json()) as { state: string };
      expect(view.state).toBe("half-open");
      const probe = await app.generate({ text: `probe ${Date.now()}`, mode: "standard", lang: "en" }, { ip: freshIp() });
      expect(probe.status).toBe(200);
      expect((await app.kv.breakerRead(BREAKER_KEY)).state).toBe("closed");
    });

    it("refuses bad input (400) and a moderator's write (403), changing nothing", async () => {
      const before = (await auditActions()).length;
      for (const json of [
        {},
        { action: "force-open" },
        { action: "force-open", seconds: 0 },
        { action: "force-open", seconds: 3601 },
        { action: "force-open", seconds: 1.5 },
        { action: "reset", seconds: 5 },
        { action: "explode" },
      ]) {
        const res = await app.request("POST", "/api/admin/breaker", { token: admin.token, json });
        expect({ json, status: res.status }).toEqual({ json, status: 400 });
      }
      const denied = await app.request("POST", "/api/admin/breaker", { token: moderator.token, json: { action: "force-open", seconds: 60 } });
      expect(denied.status).toBe(403);
      expect((await app.kv.breakerRead(BREAKER_KEY)).state).toBe("closed");
      expect((await auditActions()).length).toBe(before);
    });
  });

  describe("cache", () => {
    it("counts keys and hits/misses where the engine decides, and the flush removes captions only", async () => {
      const statsBefore = (await (await app.request("GET", "/api/admin/cache", { token: moderator.token })).json()) as {
        keys: number;
        today: { hits: number; misses: number };
      };
      const ip = freshIp();
      const input = { text: `cache stats ${Date.now()}`, mode: "standard", lang: "en" };
      expect((await app.generate(input, { ip })).status).toBe(200); // miss
      expect((await app.generate(input, { ip })).status).toBe(200); // hit
      expect((await app.generate(input, { ip })).status).toBe(200); // hit
      const res = await app.request("GET", "/api/admin/cache", { token: moderator.token });
      expect(res.status).toBe(200);
      const stats = (await res.json()) as { keys: number; today: { hits: number; misses: number; hitRate: number }; days: unknown[] };
      expect(stats.keys).toBe(statsBefore.keys + 1);
      expect(stats.today.hits - statsBefore.today.hits).toBe(2);
      expect(stats.today.misses - statsBefore.today.misses).toBe(1);
      expect(stats.today.hitRate).toBeGreaterThan(0);
      expect(stats.days).toHaveLength(7);

      // What the flush must keep: a guest quota, a lease, the breaker, the blocklist.
      const nowMs = Date.now();
      const quotaKey = guestQuotaKey("192.0.2.77", utcDay(nowMs));
      await app.kv.incrementWithinLimit(quotaKey, 10, nextUtcMidnightMs(nowMs));
      await app.kv.leaseAcquire(INFLIGHT_KEY, "keep:lease", 100, 60_000);
      await app.kv.breakerWrite(BREAKER_KEY, "open", { forMs: 600_000, cooldownMs: COOLDOWN_MS });
      await app.kv.blocklistAdd({
        id: "keep-entry",
        target: "192.0.2.78",
        reason: "keep",
        createdBy: null,
        createdAtMs: nowMs,
        expiresAtMs: nowMs + 600_000,
      });

      const denied = await app.request("DELETE", "/api/admin/cache", { token: moderator.token });
      expect(denied.status).toBe(403);
      expect(((await (await app.request("GET", "/api/admin/cache", { token: admin.token })).json()) as { keys: number }).keys).toBe(stats.keys);

      const flush = await app.request("DELETE", "/api/admin/cache", { token: admin.token });
      expect(flush.status).toBe(200);
      expect(await flush.json()).toEqual({ deleted: stats.keys });
      expect(((await (await app.request("GET", "/api/admin/cache", { token: admin.token })).json()) as { keys: number }).keys).toBe(0);

      expect(await app.kv.counterGet(quotaKey)).toBe(1);
      expect((await app.kv.leaseList(INFLIGHT_KEY)).map((l) => l.holder)).toContain("keep:lease");
      expect((await app.kv.breakerRead(BREAKER_KEY)).state).toBe("open");
      expect((await app.kv.blocklistList(Date.now())).map((e) => e.id)).toContain("keep-entry");
      await app.kv.blocklistRemove("keep-entry");
      // The hit/miss counters survive a flush.
      const after = (await (await app.request("GET", "/api/admin/cache", { token: admin.token })).json()) as { today: { hits: number } };
      expect(after.today.hits).toBe(stats.today.hits);
      await app.kv.leaseRelease(INFLIGHT_KEY, "keep:lease");

      expect(await lastAuditAfter("cache.flush")).toEqual({ deleted: stats.keys });

      // After the flush, the same input is a miss again.
      await app.kv.breakerWrite(BREAKER_KEY, "closed");
      const again = (await (await app.generate(input, { ip })).json()) as { cached: boolean };
      expect(again.cached).toBe(false);
    });
  });

  describe("in-flight leases", () => {
    it("lists the leases held now across instances (holder, since, expires)", async () => {
      const empty = await app.request("GET", "/api/admin/inflight", { token: moderator.token });
      expect(empty.status).toBe(200);
      const before = (await empty.json()) as { count: number; capacity: number };
      expect(before.capacity).toBeGreaterThan(0);

      await app.kv.leaseAcquire(INFLIGHT_KEY, "instA:one", 100, 60_000);
      await app.kv.leaseAcquire(INFLIGHT_KEY, "instB:two", 100, 30_000);
      const res = await app.request("GET", "/api/admin/inflight", { token: moderator.token });
      const view = (await res.json()) as { count: number; items: { holder: string; instance: string; since: string; expires: string }[] };
      expect(view.count).toBe(before.count + 2);
      const two = view.items.find((i) => i.holder === "instB:two");
      const one = view.items.find((i) => i.holder === "instA:one");
      expect(one).toMatchObject({ instance: "instA" });
      expect(two).toMatchObject({ instance: "instB" });
      expect(Date.parse(one!.expires) - Date.parse(one!.since)).toBeGreaterThan(55_000);
      expect(Date.parse(two!.expires)).toBeLessThan(Date.parse(one!.expires));
      await app.kv.leaseRelease(INFLIGHT_KEY, "instA:one");
      await app.kv.leaseRelease(INFLIGHT_KEY, "instB:two");
      const after = (await (await app.request("GET", "/api/admin/inflight", { token: moderator.token })).json()) as { count: number };
      expect(after.count).toBe(before.count);
    });

    it("a signed-out caller gets 401", async () => {
      const res = await app.request("GET", "/api/admin/inflight");
      expect(res.status).toBe(401);
    });
  });
});
