/**
 * The console's users API (issue 9 §6) end to end through the real route handlers: search,
 * detail, plan/role/disable (403 account_disabled everywhere, sessions ended), credit grants
 * (idempotent per key, concurrent twins make one entry), the ledger reconciliation and deletion.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, TEST_AUTH_SECRET, type TestApp } from "@/e2e/support/harness/app-harness";
import { verifyAuditChain } from "@/lib/admin/audit";
import { signSessionToken } from "@/lib/auth/tokens";
import { utcDay } from "@/lib/quota/day";

const MODE = process.env.TEST_DATABASE_URL ? "real stores" : "embedded stores";
/** Small, so a few generations reach the credits. */
const DAILY_LIMIT = 2;

interface AdminUserBody {
  userId: string;
  email: string | null;
  plan: string;
  role: string;
  adminByConfig: boolean;
  disabled: boolean;
  disabledAt: string | null;
  credits: number;
  usedToday: number;
  createdAt: string;
  lastSeenAt: string;
}
interface LedgerBody {
  id: string;
  day: string;
  kind: string;
  source: string;
  amount: number;
  reason: string | null;
  actorId: string | null;
  generationId: string | null;
  createdAt: string;
}
interface DetailBody {
  profile: AdminUserBody;
  usage: { day: string; used: number }[];
  ledger: LedgerBody[];
  ledgerTotal: number;
}
interface GrantBody {
  entry: LedgerBody;
  credits: number;
}
interface ReconcileBody {
  ok: boolean;
  total: number;
  discrepancies: { userId: string; email: string | null; field: string; day: string | null; stored: number; computed: number }[];
}
interface ErrorBody {
  error: { code: string; message: string };
}

let app: TestApp;
let admin: { userId: string; token: string };
let moderator: { userId: string; token: string };
let seq = 0;
const nextIp = () => `198.51.100.${(++seq % 250) + 1}`;
const errorCode = async (res: Response) => ((await res.json()) as ErrorBody).error.code;

async function generate(token: string): Promise<Response> {
  return app.generate({ text: `users console request ${randomUUID()}`, mode: "standard", lang: "en" }, { token, ip: nextIp() });
}

async function auditRows(target: string) {
  const rows = await app.db.query<{ action: string; actor_id: string; before: string | null; after: string | null }>(
    `select action, actor_id::text as actor_id, before::text as before, after::text as after
       from litstatus.admin_audit_log where target = $1 order by id`,
    [target],
  );
  return rows.map((r) => ({ ...r, before: decoded(r.before), after: decoded(r.after) }));
}

/** A jsonb column read as text (the embedded and the PostgreSQL clients decode jsonb differently). */
function decoded(text: string | null): unknown {
  return text === null ? null : (JSON.parse(text) as unknown);
}

async function profileRow(userId: string) {
  const [row] = await app.db.query<{ plan: string; role: string; disabled: boolean; credits: number }>(
    `select plan, role, disabled_at is not null as disabled, credits from litstatus.profiles where user_id = $1`,
    [userId],
  );
  return row;
}

async function ledgerCount(userId: string, kind = "grant"): Promise<number> {
  const [row] = await app.db.query<{ n: number }>(`select count(*)::int as n from litstatus.usage_ledger where user_id = $1 and kind = $2`, [userId, kind]);
  return row?.n ?? 0;
}

function grant(userId: string, body: unknown, key: string | undefined, token = admin.token) {
  return app.request("POST", `/api/admin/users/${userId}/credits`, { token, json: body, headers: key === undefined ? {} : { "idempotency-key": key } });
}

beforeAll(async () => {
  app = await startTestApp({ USER_DAILY_LIMIT: String(DAILY_LIMIT), ADMIN_EMAILS: "config-admin@example.test" });
  admin = await app.signUp(`console-admin-${randomUUID().slice(0, 6)}@example.test`);
  moderator = await app.signUp(`console-mod-${randomUUID().slice(0, 6)}@example.test`);
  await app.db.query(`update litstatus.profiles set role = 'admin' where user_id = $1`, [admin.userId]);
  await app.db.query(`update litstatus.profiles set role = 'moderator' where user_id = $1`, [moderator.userId]);
});

afterAll(async () => {
  await app.close();
});


describe(`GET /api/admin/users (${MODE})`, () => {
  it("searches by email, case-insensitively, newest first, with plan, role, disabled, credits and usage today", async () => {
    const tag = `srch${randomUUID().slice(0, 6)}`;
    const first = await app.signUp(`first.${tag}@example.test`);
    const second = await app.signUp(`second.${tag}@example.test`, "pro");
    await app.db.query(`update litstatus.profiles set created_at = now() - interval '1 day' where user_id = $1`, [first.userId]);
    await app.db.query(`update litstatus.profiles set credits = 4, role = 'moderator' where user_id = $1`, [second.userId]);
    expect((await generate(second.token)).status).toBe(200);

    const res = await app.request("GET", `/api/admin/users?q=${tag.toUpperCase()}`, { token: moderator.token });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: AdminUserBody[]; total: number; limit: number; offset: number };
    expect(body.total).toBe(2);
    expect(body).toMatchObject({ limit: 20, offset: 0 });
    expect(body.items.map((u) => u.userId)).toEqual([second.userId, first.userId]);
    expect(body.items[0]).toEqual({
      userId: second.userId,
      email: `second.${tag}@example.test`,
      plan: "pro",
      role: "moderator",
      adminByConfig: false,
      disabled: false,
      disabledAt: null,
      credits: 4,
      usedToday: 1,
      createdAt: expect.any(String),
      lastSeenAt: expect.any(String),
    });
    expect(body.items[1]).toMatchObject({ plan: "free", role: "user", credits: 0, usedToday: 0 });

    const paged = (await (await app.request("GET", `/api/admin/users?q=${tag}&limit=1&offset=1`, { token: admin.token })).json()) as {
      items: AdminUserBody[];
      total: number;
    };
    expect(paged.total).toBe(2);
    expect(paged.items.map((u) => u.userId)).toEqual([first.userId]);

    // Wildcards are plain characters: "%" matches nothing here.
    const wild = (await (await app.request("GET", `/api/admin/users?q=%25`, { token: admin.token })).json()) as { total: number };
    expect(wild.total).toBe(0);
    // Without q: everyone, newest first.
    const all = (await (await app.request("GET", `/api/admin/users?limit=100`, { token: admin.token })).json()) as { items: AdminUserBody[]; total: number };
    expect(all.total).toBeGreaterThanOrEqual(4);
    const created = all.items.map((u) => Date.parse(u.createdAt));
    expect(created).toEqual([...created].sort((a, b) => b - a));
  });

  it("marks an admin named in ADMIN_EMAILS, whose stored role may say otherwise", async () => {
    const named = await app.signUp("Config-Admin@example.test");
    const res = await app.request("GET", `/api/admin/users/${named.userId}`, { token: moderator.token });
    expect(((await res.json()) as { profile: AdminUserBody }).profile).toMatchObject({ role: "user", adminByConfig: true });
  });

  it("refuses bad parameters (400), guests (401) and users (403)", async () => {
    for (const qs of ["limit=0", "limit=101", "offset=-1", "limit=abc", "other=1"]) {
      const res = await app.request("GET", `/api/admin/users?${qs}`, { token: admin.token });
      expect({ qs, status: res.status }).toEqual({ qs, status: 400 });
    }
    expect((await app.request("GET", "/api/admin/users")).status).toBe(401);
    const user = await app.signUp();
    const res = await app.request("GET", "/api/admin/users", { token: user.token });
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe("forbidden");
  });
});

describe(`GET /api/admin/users/:id (${MODE})`, () => {
  it("shows the profile, 14 days of usage and the ledger, most recent first", async () => {
    const user = await app.signUp();
    await app.db.query(`insert into litstatus.usage_daily (user_id, day, used) values ($1, current_date - 3, 5)`, [user.userId]);
    expect((await generate(user.token)).status).toBe(200);
    expect((await grant(user.userId, { amount: 3, reason: "welcome" }, `detail-${randomUUID()}`)).status).toBe(201);

    const res = await app.request("GET", `/api/admin/users/${user.userId}`, { token: moderator.token });
    expect(res.status).toBe(200);
    const body = (await res.json()) as DetailBody;
    expect(body.profile).toMatchObject({ userId: user.userId, credits: 3, usedToday: 1, disabled: false });
    expect(body.usage).toHaveLength(14);
    expect(body.usage[13]).toEqual({ day: utcDay(Date.now()), used: 1 });
    expect(body.usage.reduce((sum, d) => sum + d.used, 0)).toBe(6);
    expect(body.ledgerTotal).toBe(2);
    expect(body.ledger.map((e) => e.kind)).toEqual(["grant", "charge"]);
    expect(body.ledger[0]).toMatchObject({ kind: "grant", source: "credit", amount: 3, reason: "welcome", actorId: admin.userId });
    expect(body.ledger[1]).toMatchObject({ kind: "charge", source: "daily", amount: 1, reason: null, generationId: expect.any(String) });
  });

  it("answers 404 for an unknown or malformed id", async () => {
    for (const id of [randomUUID(), "not-a-uuid"]) {
      const res = await app.request("GET", `/api/admin/users/${id}`, { token: admin.token });
      expect(res.status).toBe(404);
      expect(await errorCode(res)).toBe("not_found");
    }
  });
});

describe(`PATCH /api/admin/users/:id (${MODE})`, () => {
  it("sets plan and role, audited with before and after", async () => {
    const user = await app.signUp();
    const res = await app.request("PATCH", `/api/admin/users/${user.userId}`, { token: admin.token, json: { plan: "pro", role: "moderator" } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { profile: AdminUserBody }).profile).toMatchObject({ plan: "pro", role: "moderator", disabled: false });
    expect(await profileRow(user.userId)).toMatchObject({ plan: "pro", role: "moderator" });
    const [entry] = await auditRows(user.userId);
    expect(entry).toMatchObject({
      action: "user.update",
      actor_id: admin.userId,
      before: { plan: "free", role: "user", disabled: false },
      after: { plan: "pro", role: "moderator", disabled: false },
    });
    // The new plan is the user's own view at once.
    const me = (await (await app.request("GET", "/api/me", { token: user.token })).json()) as { profile: { plan: string; role: string } };
    expect(me.profile).toMatchObject({ plan: "pro", role: "moderator" });
  });

  it("refuses bad bodies (400), unknown ids (404) and an admin disabling or demoting themselves (400), changing nothing", async () => {
    const user = await app.signUp();
    for (const json of [{}, { plan: "gold" }, { role: "owner" }, { disabled: "yes" }, { plan: "pro", extra: 1 }]) {
      const res = await app.request("PATCH", `/api/admin/users/${user.userId}`, { token: admin.token, json });
      expect({ json, status: res.status }).toEqual({ json, status: 400 });
    }
    const unknown = await app.request("PATCH", `/api/admin/users/${randomUUID()}`, { token: admin.token, json: { plan: "pro" } });
    expect(unknown.status).toBe(404);
    for (const json of [{ disabled: true }, { role: "user" }, { role: "moderator", plan: "pro" }]) {
      const res = await app.request("PATCH", `/api/admin/users/${admin.userId}`, { token: admin.token, json });
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorBody).error.message).toMatch(/your own/);
    }
    expect(await profileRow(admin.userId)).toMatchObject({ plan: "free", role: "admin", disabled: false });
    expect(await profileRow(user.userId)).toMatchObject({ plan: "free", role: "user", disabled: false });
    expect(await auditRows(user.userId)).toEqual([]);
    expect(await auditRows(admin.userId)).toEqual([]);
    // An admin may still change their own plan.
    const own = await app.request("PATCH", `/api/admin/users/${admin.userId}`, { token: admin.token, json: { plan: "free", role: "admin" } });
    expect(own.status).toBe(200);
  });

  it("a moderator's write is 403 and changes nothing", async () => {
    const user = await app.signUp();
    const res = await app.request("PATCH", `/api/admin/users/${user.userId}`, { token: moderator.token, json: { disabled: true, plan: "pro" } });
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe("forbidden");
    expect(await profileRow(user.userId)).toMatchObject({ plan: "free", disabled: false });
    expect(await auditRows(user.userId)).toEqual([]);
  });

  it("disabling: 403 account_disabled on every authenticated route, sessions end; re-enabling needs a fresh sign-in", async () => {
    const email = `disabled-${randomUUID().slice(0, 6)}@example.test`;
    const user = await app.signUp(email);
    expect((await generate(user.token)).status).toBe(200);

    const off = await app.request("PATCH", `/api/admin/users/${user.userId}`, { token: admin.token, json: { disabled: true } });
    expect(off.status).toBe(200);
    expect(((await off.json()) as { profile: AdminUserBody }).profile).toMatchObject({ disabled: true, disabledAt: expect.any(String) });

    const calls = [
      () => app.request("GET", "/api/me", { token: user.token }),
      () => generate(user.token),
      () => app.request("GET", "/api/generations", { token: user.token }),
      () => app.request("GET", "/api/quota", { token: user.token }),
    ];
    for (const call of calls) {
      const res = await call();
      expect(res.status).toBe(403);
      expect(await errorCode(res)).toBe("account_disabled");
    }
    // A brand-new token is refused too while the account is disabled.
    const during = await signSessionToken({ sub: user.userId, email }, TEST_AUTH_SECRET, 3600);
    expect(await errorCode(await app.request("GET", "/api/me", { token: during }))).toBe("account_disabled");
    const [entry] = await auditRows(user.userId);
    expect(entry).toMatchObject({ action: "user.update", before: { disabled: false }, after: { disabled: true } });

    const on = await app.request("PATCH", `/api/admin/users/${user.userId}`, { token: admin.token, json: { disabled: false } });
    expect(on.status).toBe(200);
    expect(((await on.json()) as { profile: AdminUserBody }).profile).toMatchObject({ disabled: false, disabledAt: null });
    // The sessions ended when the account was disabled: the old token stays refused.
    const old = await app.request("GET", "/api/me", { token: user.token });
    expect(old.status).toBe(401);
    expect(await errorCode(old)).toBe("unauthorized");
    // A fresh sign-in (a token issued after the revocation, at second resolution) works.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const fresh = await signSessionToken({ sub: user.userId, email }, TEST_AUTH_SECRET, 3600);
    expect((await app.request("GET", "/api/me", { token: fresh })).status).toBe(200);
    expect((await generate(fresh)).status).toBe(200);
    expect((await app.request("GET", "/api/generations", { token: fresh })).status).toBe(200);
    expect((await auditRows(user.userId)).map((r) => r.action)).toEqual(["user.update", "user.update"]);
  });
});

describe(`POST /api/admin/users/:id/credits (${MODE})`, () => {
  it("grants credits as an audited ledger entry the user can spend", async () => {
    const user = await app.signUp();
    const res = await grant(user.userId, { amount: 2, reason: "support ticket 42" }, `grant-${randomUUID()}`);
    expect(res.status).toBe(201);
    expect(res.headers.get("idempotency-replayed")).toBe("false");
    const body = (await res.json()) as GrantBody;
    expect(body.credits).toBe(2);
    expect(body.entry).toMatchObject({ kind: "grant", source: "credit", amount: 2, reason: "support ticket 42", actorId: admin.userId, day: utcDay(Date.now()) });
    expect(await profileRow(user.userId)).toMatchObject({ credits: 2 });
    const [entry] = await auditRows(user.userId);
    expect(entry).toMatchObject({ action: "user.credits.grant", actor_id: admin.userId, before: { credits: 0 }, after: { credits: 2, amount: 2 } });

    // The daily allowance first, then the credits.
    for (let i = 0; i < DAILY_LIMIT + 2; i++) expect((await generate(user.token)).status).toBe(200);
    expect((await generate(user.token)).status).toBe(429);
    expect(await profileRow(user.userId)).toMatchObject({ credits: 0 });

    // Taking back more than is left is refused.
    const over = await grant(user.userId, { amount: -1, reason: "oops" }, `grant-${randomUUID()}`);
    expect(over.status).toBe(400);
    expect(await ledgerCount(user.userId)).toBe(1);
  });

  it("is idempotent per key: the same body answers the same, another body is 400, concurrent twins make one entry", async () => {
    const user = await app.signUp();
    const key = `idem-${randomUUID()}`;
    const first = await grant(user.userId, { amount: 5, reason: "goodwill" }, key);
    expect(first.status).toBe(201);
    const firstBody = await first.json();
    const again = await grant(user.userId, { amount: 5, reason: "goodwill" }, key);
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotency-replayed")).toBe("true");
    expect(await again.json()).toEqual(firstBody);
    for (const body of [{ amount: 6, reason: "goodwill" }, { amount: 5, reason: "other" }]) {
      const res = await grant(user.userId, body, key);
      expect(res.status).toBe(400);
      expect(await errorCode(res)).toBe("invalid_input");
    }
    const otherUser = await app.signUp();
    expect((await grant(otherUser.userId, { amount: 5, reason: "goodwill" }, key)).status).toBe(400);
    expect(await ledgerCount(user.userId)).toBe(1);
    expect(await ledgerCount(otherUser.userId)).toBe(0);
    expect(await profileRow(user.userId)).toMatchObject({ credits: 5 });

    const racer = await app.signUp();
    const raceKey = `race-${randomUUID()}`;
    const results = await Promise.all(Array.from({ length: 8 }, () => grant(racer.userId, { amount: 3, reason: "race" }, raceKey)));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(201));
    const bodies = await Promise.all(results.map((r) => r.json()));
    for (const b of bodies) expect(b).toEqual(bodies[0]);
    expect(results.filter((r) => r.headers.get("idempotency-replayed") === "false")).toHaveLength(1);
    expect(await ledgerCount(racer.userId)).toBe(1);
    expect(await profileRow(racer.userId)).toMatchObject({ credits: 3 });
    expect((await auditRows(racer.userId)).map((r) => r.action)).toEqual(["user.credits.grant"]);
  });

  it("refuses a missing or malformed key and bad bodies (400), unknown users (404), moderators (403)", async () => {
    const user = await app.signUp();
    expect((await grant(user.userId, { amount: 1, reason: "x" }, undefined)).status).toBe(400);
    expect((await grant(user.userId, { amount: 1, reason: "x" }, "short")).status).toBe(400);
    expect((await grant(user.userId, { amount: 1, reason: "x" }, "has spaces in it")).status).toBe(400);
    for (const body of [{}, { amount: 0, reason: "x" }, { amount: 1.5, reason: "x" }, { amount: 1 }, { amount: 1, reason: "" }, { amount: 1, reason: "x", more: 1 }, { amount: 100_000, reason: "x" }]) {
      const res = await grant(user.userId, body, `bad-${randomUUID()}`);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
    }
    const unknown = await grant(randomUUID(), { amount: 1, reason: "x" }, `unknown-${randomUUID()}`);
    expect(unknown.status).toBe(404);
    const mod = await grant(user.userId, { amount: 1, reason: "x" }, `mod-${randomUUID()}`, moderator.token);
    expect(mod.status).toBe(403);
    expect(await ledgerCount(user.userId)).toBe(0);
    expect(await profileRow(user.userId)).toMatchObject({ credits: 0 });
    expect(await auditRows(user.userId)).toEqual([]);
  });
});

describe(`GET /api/admin/ledger/reconcile (${MODE})`, () => {
  it("finds nothing wrong for ledger-driven counters, then every planted discrepancy", async () => {
    const user = await app.signUp();
    expect((await grant(user.userId, { amount: 2, reason: "reconcile" }, `rec-${randomUUID()}`)).status).toBe(201);
    for (let i = 0; i < DAILY_LIMIT + 1; i++) expect((await generate(user.token)).status).toBe(200);
    const mine = (body: ReconcileBody) => body.discrepancies.filter((d) => d.userId === user.userId);

    const clean = await app.request("GET", "/api/admin/ledger/reconcile", { token: moderator.token });
    expect(clean.status).toBe(200);
    expect(mine((await clean.json()) as ReconcileBody)).toEqual([]);

    const today = utcDay(Date.now());
    await app.db.query(`update litstatus.usage_daily set used = used + 3 where user_id = $1 and day = $2::date`, [user.userId, today]);
    await app.db.query(`update litstatus.profiles set credits = credits + 7 where user_id = $1`, [user.userId]);
    await app.db.query(`insert into litstatus.usage_daily (user_id, day, used) values ($1, $2::date - 5, 4)`, [user.userId, today]);

    const res = await app.request("GET", "/api/admin/ledger/reconcile", { token: admin.token });
    const body = (await res.json()) as ReconcileBody;
    expect(body.ok).toBe(false);
    expect(body.total).toBeGreaterThanOrEqual(3);
    const fiveDaysAgo = utcDay(Date.now() - 5 * 86_400_000);
    expect(mine(body)).toEqual([
      { userId: user.userId, email: expect.any(String), field: "credits", day: null, stored: 8, computed: 1 },
      { userId: user.userId, email: expect.any(String), field: "used", day: today, stored: DAILY_LIMIT + 3, computed: DAILY_LIMIT },
      { userId: user.userId, email: expect.any(String), field: "used", day: fiveDaysAgo, stored: 4, computed: 0 },
    ]);
  });

  it("is for moderators and admins only", async () => {
    expect((await app.request("GET", "/api/admin/ledger/reconcile")).status).toBe(401);
    const user = await app.signUp();
    expect((await app.request("GET", "/api/admin/ledger/reconcile", { token: user.token })).status).toBe(403);
  });
});

describe(`DELETE /api/admin/users/:id (${MODE})`, () => {
  it("deletes the user and their data through the account-deletion path, audited", async () => {
    const user = await app.signUp();
    expect((await generate(user.token)).status).toBe(200);
    expect((await grant(user.userId, { amount: 1, reason: "before deletion" }, `del-${randomUUID()}`)).status).toBe(201);
    const res = await app.request("DELETE", `/api/admin/users/${user.userId}`, { token: admin.token });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ deleted: true });
    for (const [table, column] of [
      ["auth.users", "id"],
      ["litstatus.profiles", "user_id"],
      ["litstatus.generations", "user_id"],
      ["litstatus.usage_ledger", "user_id"],
      ["litstatus.usage_daily", "user_id"],
    ] as const) {
      const [row] = await app.db.query<{ n: number }>(`select count(*)::int as n from ${table} where ${column} = $1`, [user.userId]);
      expect({ table, n: row?.n }).toEqual({ table, n: 0 });
    }
    const entries = await auditRows(user.userId);
    expect(entries.map((e) => e.action)).toEqual(["user.credits.grant", "user.delete"]);
    expect(entries[1]).toMatchObject({ before: { credits: 1 }, after: { deleted: true, rows: { generations: 1, usageLedger: 2 } } });
    expect((await app.request("GET", "/api/me", { token: user.token })).status).toBe(401);
    expect((await app.request("GET", `/api/admin/users/${user.userId}`, { token: admin.token })).status).toBe(404);
    expect((await app.request("DELETE", `/api/admin/users/${user.userId}`, { token: admin.token })).status).toBe(404);
  });

  it("refuses self-deletion (400), a moderator (403) and a cross-site request (403), deleting nothing", async () => {
    const self = await app.request("DELETE", `/api/admin/users/${admin.userId}`, { token: admin.token });
    expect(self.status).toBe(400);
    expect(((await self.json()) as ErrorBody).error.message).toMatch(/your own/);
    const user = await app.signUp();
    expect((await app.request("DELETE", `/api/admin/users/${user.userId}`, { token: moderator.token })).status).toBe(403);
    const cross = await app.request("DELETE", `/api/admin/users/${user.userId}`, { token: admin.token, headers: { origin: "https://evil.example" } });
    expect(cross.status).toBe(403);
    expect(await profileRow(user.userId)).toBeDefined();
    expect(await profileRow(admin.userId)).toBeDefined();
    expect(await auditRows(user.userId)).toEqual([]);
  });
});

describe(`the audit log after the users tests (${MODE})`, () => {
  it("still verifies: every write above is one link of an intact chain", async () => {
    const [row] = await app.db.query<{ n: number }>(`select count(*)::int as n from litstatus.admin_audit_log`);
    expect(row?.n).toBeGreaterThan(5);
    expect(await verifyAuditChain()).toMatchObject({ ok: true });
  });
});
