/**
 * The generations console (recent, filters, stuck, sweep) and the database checks, on both
 * databases: PGlite answers what it can and marks the rest unavailable, never a 500.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "@/e2e/support/harness/app-harness";

let app: TestApp;
let admin: { userId: string; token: string };
let moderator: { userId: string; token: string };
let owner: { userId: string; token: string };

interface Fixture {
  id: string;
  status: "pending" | "complete" | "failed";
  userId?: string | null;
  provider?: string | null;
  cached?: boolean;
  errorCode?: string | null;
  minutesAgo: number;
}

async function insert(f: Fixture): Promise<void> {
  await app.db.query(
    `insert into litstatus.generations (id, user_id, status, mode, lang, input_hash, provider, model, cached, error_code, created_at)
     values ($1, $2, $3, 'standard', 'en', 'hash', $4, 'gpt-4o-mini', $5, $6, now() - make_interval(mins => $7))`,
    [f.id, f.userId ?? null, f.status, f.provider ?? "openai", f.cached ?? false, f.errorCode ?? null, f.minutesAgo],
  );
}

const ids = {
  complete: randomUUID(),
  cachedHit: randomUUID(),
  failed: randomUUID(),
  offline: randomUUID(),
  freshPending: randomUUID(),
  stuckA: randomUUID(),
  stuckB: randomUUID(),
};

interface Page {
  items: { id: string; status: string; errorCode: string | null; cached: boolean; provider: string; userId: string | null }[];
  total: number;
  stuck: { count: number; olderThanMinutes: number; items: { id: string }[] };
}

async function list(query: string, token = moderator.token): Promise<Page> {
  const res = await app.request("GET", `/api/admin/generations${query}`, { token });
  expect(res.status).toBe(200);
  return (await res.json()) as Page;
}

beforeAll(async () => {
  app = await startTestApp();
  admin = await app.signUp();
  moderator = await app.signUp();
  owner = await app.signUp();
  await app.db.query(`update litstatus.profiles set role = 'admin' where user_id = $1`, [admin.userId]);
  await app.db.query(`update litstatus.profiles set role = 'moderator' where user_id = $1`, [moderator.userId]);
  await insert({ id: ids.complete, status: "complete", userId: owner.userId, minutesAgo: 1 });
  await insert({ id: ids.cachedHit, status: "complete", cached: true, minutesAgo: 2 });
  await insert({ id: ids.failed, status: "failed", errorCode: "upstream_unavailable", minutesAgo: 3 });
  await insert({ id: ids.offline, status: "complete", provider: "offline", minutesAgo: 4 });
  await insert({ id: ids.freshPending, status: "pending", minutesAgo: 5 });
  await insert({ id: ids.stuckA, status: "pending", userId: owner.userId, minutesAgo: 11 });
  await insert({ id: ids.stuckB, status: "pending", minutesAgo: 60 * 24 });
});
afterAll(async () => {
  await app?.close();
});

describe(`admin generations (${process.env.TEST_DATABASE_URL ? "PostgreSQL" : "PGlite"})`, () => {
  it("lists recent generations newest first with failure reasons, and the stuck ones", async () => {
    const page = await list("");
    expect(page.total).toBe(7);
    expect(page.items.map((i) => i.id)).toEqual([ids.complete, ids.cachedHit, ids.failed, ids.offline, ids.freshPending, ids.stuckA, ids.stuckB]);
    expect(page.items.find((i) => i.id === ids.failed)?.errorCode).toBe("upstream_unavailable");
    expect(page.stuck.count).toBe(2);
    expect(page.stuck.olderThanMinutes).toBe(10);
    expect(page.stuck.items.map((i) => i.id)).toEqual([ids.stuckB, ids.stuckA]);
  });

  it("filters by status, provider, cached and user, and pages", async () => {
    expect((await list("?status=failed")).items.map((i) => i.id)).toEqual([ids.failed]);
    expect((await list("?provider=offline")).items.map((i) => i.id)).toEqual([ids.offline]);
    expect((await list("?cached=true")).items.map((i) => i.id)).toEqual([ids.cachedHit]);
    expect((await list("?cached=false")).total).toBe(6);
    expect((await list(`?userId=${owner.userId}`)).items.map((i) => i.id)).toEqual([ids.complete, ids.stuckA]);
    const second = await list("?limit=2&offset=2");
    expect(second.items.map((i) => i.id)).toEqual([ids.failed, ids.offline]);
    expect(second.total).toBe(7);
  });

  it("refuses bad filters with 400", async () => {
    for (const query of ["?status=bogus", "?userId=nope", "?cached=yes", "?limit=0", "?limit=201", "?offset=-1", "?unknown=1"]) {
      const res = await app.request("GET", `/api/admin/generations${query}`, { token: moderator.token });
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
    }
  });

  it("a moderator cannot sweep (403, nothing changed); an admin sweeps only the stuck ones, audited", async () => {
    const denied = await app.request("POST", "/api/admin/generations/sweep", { token: moderator.token });
    expect(denied.status).toBe(403);
    expect((await list("?status=pending")).total).toBe(3);

    const res = await app.request("POST", "/api/admin/generations/sweep", { token: admin.token });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { swept: number; ids: string[] };
    expect(body.swept).toBe(2);
    expect([...body.ids].sort()).toEqual([ids.stuckA, ids.stuckB].sort());

    const rows = await app.db.query<{ id: string; status: string; error_code: string | null; completed_at: unknown }>(
      `select id::text as id, status, error_code, completed_at from litstatus.generations where id = any($1::uuid[])`,
      [[ids.stuckA, ids.stuckB, ids.freshPending]],
    );
    const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
    expect(byId[ids.stuckA]).toMatchObject({ status: "failed", error_code: "stuck" });
    expect(byId[ids.stuckB]).toMatchObject({ status: "failed", error_code: "stuck" });
    expect(byId[ids.stuckA]?.completed_at).not.toBeNull();
    expect(byId[ids.freshPending]).toMatchObject({ status: "pending", error_code: null });
    expect((await list("")).stuck.count).toBe(0);

    const [audit] = await app.db.query<{ actor_id: string; after: string }>(
      `select actor_id::text as actor_id, after::text as after from litstatus.admin_audit_log where action = 'generations.sweep'`,
    );
    expect(audit?.actor_id).toBe(admin.userId);
    expect(JSON.parse(audit!.after)).toMatchObject({ swept: 2 });

    const again = await app.request("POST", "/api/admin/generations/sweep", { token: admin.token });
    expect(await again.json()).toEqual({ swept: 0, ids: [] });
  });
});

describe(`admin database checks (${process.env.TEST_DATABASE_URL ? "PostgreSQL" : "PGlite"})`, () => {
  interface Report {
    kind: string;
    connections: { available: boolean; reason?: string; total?: number; max?: number };
    longRunningQueries: { available: boolean; reason?: string; thresholdSeconds?: number; items?: unknown[] };
    tableSizes: { available: boolean; items?: { table: string; totalBytes: number }[] };
    indexUsage: { available: boolean; items?: { table: string; index: string; scans: number }[] };
  }

  it("answers the four checks for a moderator, never a 500; PGlite marks the session checks unavailable", async () => {
    const res = await app.request("GET", "/api/admin/database", { token: moderator.token });
    expect(res.status).toBe(200);
    const report = (await res.json()) as Report;
    expect(report.tableSizes.available).toBe(true);
    expect(report.tableSizes.items?.map((t) => t.table)).toEqual(expect.arrayContaining(["generations", "security_events", "funnel_events", "admin_audit_log"]));
    expect(report.tableSizes.items?.every((t) => t.totalBytes > 0)).toBe(true);
    expect(report.indexUsage.available).toBe(true);
    expect(report.indexUsage.items?.map((i) => i.index)).toContain("generations_created_idx");
    if (app.db.kind === "pglite") {
      expect(report.kind).toBe("pglite");
      expect(report.connections).toMatchObject({ available: false, reason: expect.stringContaining("embedded database") });
      expect(report.longRunningQueries).toMatchObject({ available: false, reason: expect.stringContaining("embedded database") });
    } else {
      expect(report.kind).toBe("postgres");
      expect(report.connections.available).toBe(true);
      expect(report.connections.total).toBeGreaterThanOrEqual(1);
      expect(report.connections.max).toBeGreaterThan(0);
      expect(report.longRunningQueries).toMatchObject({ available: true, thresholdSeconds: 300, items: [] });
    }
  });

  it("is 401 signed out and 403 for a signed-in user", async () => {
    expect((await app.request("GET", "/api/admin/database")).status).toBe(401);
    expect((await app.request("GET", "/api/admin/database", { token: owner.token })).status).toBe(403);
  });
});
