/**
 * Retention: exactly the old rows go (security events 90 days, funnel events 180, guests'
 * generations 30; configurable), in bounded batches, with the stuck-generation sweep; from the
 * console (admin, audited), the cron route (bearer CRON_SECRET) and `npm run retention`.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "@/e2e/support/harness/app-harness";
import type { Env } from "@/lib/env";
import { checkCronAuthorization, runRetention, type RetentionResult } from "./index";

const CRON_SECRET = "cron-secret-for-tests-0123456789abcdef";

let app: TestApp;
let admin: { userId: string; token: string };
let moderator: { userId: string; token: string };
let member: { userId: string; token: string };

/** Rows that must go and rows that must stay, with their ages in days (minutes for pending). */
async function seed(): Promise<{ keepGenerations: string[]; dropGenerations: string[]; stuck: string }> {
  const security = async (days: number) =>
    app.db.query(
      `insert into litstatus.security_events (event_type, severity, ip, created_at) values ('rate_limited', 'warn', '192.0.2.1', now() - make_interval(days => $1))`,
      [days],
    );
  const funnel = async (days: number) =>
    app.db.query(`insert into litstatus.funnel_events (event, session_id, created_at) values ('page_view', 's1', now() - make_interval(days => $1))`, [
      days,
    ]);
  const generation = async (userId: string | null, days: number, status = "complete", minutes = 0) => {
    const id = randomUUID();
    await app.db.query(
      `insert into litstatus.generations (id, user_id, status, mode, lang, input_hash, created_at)
       values ($1, $2, $3, 'standard', 'en', 'h', now() - make_interval(days => $4, mins => $5))`,
      [id, userId, status, days, minutes],
    );
    return id;
  };
  for (const days of [91, 120, 400]) await security(days);
  for (const days of [0, 89]) await security(days);
  for (const days of [181, 365]) await funnel(days);
  for (const days of [0, 179]) await funnel(days);
  const dropGenerations = [await generation(null, 31), await generation(null, 90, "failed")];
  const keepGenerations = [await generation(null, 29), await generation(member.userId, 100), await generation(member.userId, 31)];
  const stuck = await generation(member.userId, 0, "pending", 30);
  keepGenerations.push(await generation(null, 0, "pending", 1)); // pending, but not stuck
  keepGenerations.push(stuck);
  return { keepGenerations, dropGenerations, stuck };
}

async function counts(): Promise<{ security: number; funnel: number; generations: number }> {
  const [row] = await app.db.query<{ security: number; funnel: number; generations: number }>(
    `select (select count(*)::int from litstatus.security_events where event_type = 'rate_limited' and ip = '192.0.2.1') as security,
            (select count(*)::int from litstatus.funnel_events where session_id = 's1') as funnel,
            (select count(*)::int from litstatus.generations) as generations`,
  );
  return row!;
}

async function generationIds(): Promise<string[]> {
  return (await app.db.query<{ id: string }>(`select id::text as id from litstatus.generations`)).map((r) => r.id);
}

async function clear(): Promise<void> {
  await app.flush();
  await app.db.query(`delete from litstatus.security_events`);
  await app.db.query(`delete from litstatus.funnel_events`);
  await app.db.query(`delete from litstatus.generations`);
}

/** Runs `work` with some variables of the parsed environment changed. */
async function withEnv<T>(patch: Partial<Env>, work: () => Promise<T>): Promise<T> {
  const globals = globalThis as unknown as { __litstatusEnv: Env };
  const saved = globals.__litstatusEnv;
  globals.__litstatusEnv = { ...saved, ...patch };
  try {
    return await work();
  } finally {
    globals.__litstatusEnv = saved;
  }
}

beforeAll(async () => {
  app = await startTestApp({ CRON_SECRET });
  admin = await app.signUp();
  moderator = await app.signUp();
  member = await app.signUp();
  await app.db.query(`update litstatus.profiles set role = 'admin' where user_id = $1`, [admin.userId]);
  await app.db.query(`update litstatus.profiles set role = 'moderator' where user_id = $1`, [moderator.userId]);
});
afterAll(async () => {
  await app?.close();
});
beforeEach(clear);

const EXPECTED = { removed: { security_events: 3, funnel_events: 2, generations: 2 }, swept: 1 };

describe(`retention (${process.env.TEST_DATABASE_URL ? "PostgreSQL" : "PGlite"})`, () => {
  it("deletes exactly the old rows, in batches, keeps the rest, and sweeps stuck generations", async () => {
    const { keepGenerations, dropGenerations, stuck } = await seed();
    const result = await runRetention({ batch: 2 });
    expect(result).toMatchObject({ ...EXPECTED, days: { security_events: 90, funnel_events: 180, generations: 30 } });
    expect(await counts()).toEqual({ security: 2, funnel: 2, generations: keepGenerations.length });
    const left = await generationIds();
    expect(left.sort()).toEqual([...keepGenerations].sort());
    for (const id of dropGenerations) expect(left).not.toContain(id);
    const [swept] = await app.db.query<{ status: string; error_code: string }>(`select status, error_code from litstatus.generations where id = $1`, [stuck]);
    expect(swept).toEqual({ status: "failed", error_code: "stuck" });
    // A second run finds nothing.
    expect(await runRetention()).toMatchObject({ removed: { security_events: 0, funnel_events: 0, generations: 0 }, swept: 0 });
  });

  it("takes its windows from the environment", async () => {
    await seed();
    const result = await withEnv({ RETENTION_SECURITY_DAYS: 100, RETENTION_FUNNEL_DAYS: 300, RETENTION_GUEST_GENERATIONS_DAYS: 60 }, () => runRetention());
    expect(result.removed).toEqual({ security_events: 2, funnel_events: 1, generations: 1 });
    expect(result.days).toEqual({ security_events: 100, funnel_events: 300, generations: 60 });
  });

  it("POST /api/admin/retention: admin only (a moderator's 403 deletes nothing), audited", async () => {
    await seed();
    const before = await counts();
    const denied = await app.request("POST", "/api/admin/retention", { token: moderator.token });
    expect(denied.status).toBe(403);
    expect(await counts()).toEqual(before);

    const res = await app.request("POST", "/api/admin/retention", { token: admin.token });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject(EXPECTED);
    const [audit] = await app.db.query<{ actor_id: string; after: string }>(
      `select actor_id::text as actor_id, after::text as after from litstatus.admin_audit_log where action = 'retention.run' order by id desc limit 1`,
    );
    expect(audit?.actor_id).toBe(admin.userId);
    expect(JSON.parse(audit!.after)).toMatchObject(EXPECTED);
  });

  it("POST /api/cron/retention: 401 without or with a wrong bearer token, 200 with CRON_SECRET", async () => {
    await seed();
    const before = await counts();
    for (const authorization of [undefined, "Bearer wrong", `Bearer ${CRON_SECRET}x`, `Bearer ${CRON_SECRET.slice(0, -1)}`, CRON_SECRET, `Basic ${CRON_SECRET}`, "Bearer "]) {
      const res = await app.request("POST", "/api/cron/retention", { headers: authorization ? { authorization } : {} });
      expect({ authorization, status: res.status }).toEqual({ authorization, status: 401 });
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    }
    // An admin's session is not the cron token.
    expect((await app.request("POST", "/api/cron/retention", { token: admin.token })).status).toBe(401);
    expect(await counts()).toEqual(before);

    const res = await app.request("POST", "/api/cron/retention", { headers: { authorization: `Bearer ${CRON_SECRET}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject(EXPECTED);
  });

  it("POST /api/cron/retention is 404 when CRON_SECRET is unset", async () => {
    await withEnv({ CRON_SECRET: undefined }, async () => {
      const res = await app.request("POST", "/api/cron/retention", { headers: { authorization: `Bearer ${CRON_SECRET}` } });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_found");
      expect(checkCronAuthorization(`Bearer ${CRON_SECRET}`)).toBe("disabled");
    });
  });
});

describe("npm run retention", () => {
  it("prints the result as JSON and exits 0", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "litstatus-retention-"));
    try {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [path.join("node_modules", "tsx", "dist", "cli.mjs"), "--conditions", "react-server", "scripts/retention.ts"],
        { env: { PATH: process.env.PATH, NODE_ENV: "test", PGLITE_DATA_DIR: dir }, timeout: 60_000, encoding: "utf8" },
      );
      const result = JSON.parse(stdout.trim()) as RetentionResult;
      expect(result).toMatchObject({ removed: { security_events: 0, funnel_events: 0, generations: 0 }, swept: 0 });
      expect(result.days).toEqual({ security_events: 90, funnel_events: 180, generations: 30 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
