import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "@/e2e/support/harness/app-harness";
import { utcDay } from "@/lib/quota/day";
import { readDailyUsage } from "./usage";

interface MeBody {
  profile: { userId: string; email: string | null; plan: string; role: string; credits: number; createdAt: string };
  quota: { plan: string; limit: number; used: number; remaining: number; credits: number; resetAt: string };
  usage: { day: string; used: number }[];
}
interface ErrorBody {
  error: { code: string; message: string; requestId: string };
}

const SAME_ORIGIN = { origin: "http://litstatus.test" };
const CONFIRM = { confirm: "DELETE" };

let app: TestApp;
let seq = 0;
const nextIp = () => `198.51.100.${++seq}`;

const DAY_MS = 86_400_000;
const daysAgo = (n: number) => utcDay(Date.now() - n * DAY_MS);

async function generate(token: string, text: string): Promise<string> {
  const res = await app.generate({ text, mode: "standard", lang: "en" }, { token, ip: nextIp() });
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

async function countRows(table: string, where: string, params: string[]): Promise<number> {
  const [row] = await app.db.query<{ n: number }>(`select count(*)::int as n from ${table} where ${where}`, params);
  return row?.n ?? 0;
}

/** Every row that names the user, per table (events: those still linked to the user). */
async function footprint(userId: string, email: string) {
  return {
    authUsers: await countRows("auth.users", "id = $1", [userId]),
    profiles: await countRows("litstatus.profiles", "user_id = $1", [userId]),
    generations: await countRows("litstatus.generations", "user_id = $1", [userId]),
    usageDaily: await countRows("litstatus.usage_daily", "user_id = $1", [userId]),
    usageLedger: await countRows("litstatus.usage_ledger", "user_id = $1", [userId]),
    feedback: await countRows("litstatus.feedback", "user_id = $1", [userId]),
    wishlist: await countRows("litstatus.pro_wishlist", "user_id = $1 or lower(email) = $2", [userId, email]),
    loginTokens: await countRows("litstatus.login_tokens", "lower(email) = $1", [email]),
    funnelEvents: await countRows("litstatus.funnel_events", "user_id = $1", [userId]),
    securityEvents: await countRows("litstatus.security_events", "user_id = $1", [userId]),
  };
}

/** Gives a user a row in every table that can hold their data. */
async function seedAccount(userId: string, token: string, email: string, tag: string) {
  const generationId = await generate(token, `account data ${tag} one`);
  await generate(token, `account data ${tag} two`);
  const feedback = await app.request("POST", "/api/feedback", { token, headers: SAME_ORIGIN, json: { generationId, rating: 1 } });
  expect(feedback.status).toBe(200);
  const wish = await app.request("POST", "/api/wishlist", { token, headers: SAME_ORIGIN, json: { email, note: "pro please" } });
  expect(wish.status).toBe(200);
  const event = await app.request("POST", "/api/events", {
    token,
    headers: SAME_ORIGIN,
    json: { event: "page_view", sessionId: `session-${tag}`, path: "/en" },
  });
  expect(event.status).toBe(202);
  await app.db.query(
    `insert into litstatus.security_events (event_type, severity, ip, user_id, path, user_agent)
     values ('rate_limited', 'warn', '203.0.113.77', $1, '/api/generate', 'test-agent')`,
    [userId],
  );
  await app.db.query(
    `insert into litstatus.login_tokens (token_hash, email, expires_at) values ($1, $2, now() + interval '10 minutes')`,
    [tag.padEnd(64, "0").slice(0, 64), email],
  );
  await app.flush();
  return generationId;
}

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

const MODE = process.env.TEST_DATABASE_URL ? "real stores" : "embedded stores";

describe(`GET /api/me (${MODE})`, () => {
  it("answers 401 to guests", async () => {
    const res = await app.request("GET", "/api/me", { ip: nextIp() });
    expect(res.status).toBe(401);
    expect(((await res.json()) as ErrorBody).error.code).toBe("unauthorized");
  });

  it("shows the profile, today's quota and 14 zero-filled UTC days of usage, oldest first", async () => {
    const email = "me-reader@example.test";
    const { userId, token } = await app.signUp(email);
    await app.db.query(`update litstatus.profiles set credits = 5 where user_id = $1`, [userId]);
    await app.db.query(`insert into litstatus.usage_daily (user_id, day, used) values ($1, $2::date, 7), ($1, $3::date, 2)`, [
      userId,
      daysAgo(3),
      daysAgo(20), // outside the window
    ]);
    for (let i = 0; i < 3; i++) await generate(token, `me usage request ${i}`);
    await app.flush();

    const res = await app.request("GET", "/api/me", { token, ip: nextIp() });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as MeBody;
    expect(body.profile).toEqual({
      userId,
      email,
      plan: "free",
      role: "user",
      credits: 5,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(body.quota).toMatchObject({ plan: "free", limit: 20, used: 3, remaining: 17 + 5, credits: 5 });
    expect(body.usage).toHaveLength(14);
    expect(body.usage.map((u) => u.day)).toEqual(Array.from({ length: 14 }, (_, i) => daysAgo(13 - i)));
    expect(body.usage[13]).toEqual({ day: daysAgo(0), used: 3 });
    expect(body.usage[10]).toEqual({ day: daysAgo(3), used: 7 });
    expect(body.usage.reduce((sum, u) => sum + u.used, 0)).toBe(10);
  });

  it("reports a Pro plan and a stored moderator role", async () => {
    const { token, userId } = await app.signUp(undefined, "pro");
    await app.db.query(`update litstatus.profiles set role = 'moderator' where user_id = $1`, [userId]);
    const body = (await (await app.request("GET", "/api/me", { token })).json()) as MeBody;
    expect(body.profile).toMatchObject({ plan: "pro", role: "moderator", credits: 0 });
    expect(body.quota).toMatchObject({ plan: "pro", limit: 500, used: 0 });
    expect(body.usage.every((u) => u.used === 0)).toBe(true);
  });

  it("readDailyUsage zero-fills any window across a month boundary", async () => {
    const { userId } = await app.signUp();
    await app.db.query(`insert into litstatus.usage_daily (user_id, day, used) values ($1, '2026-02-27', 4), ($1, '2026-03-02', 1)`, [userId]);
    expect(await readDailyUsage(app.db, userId, "2026-03-02", 5)).toEqual([
      { day: "2026-02-26", used: 0 },
      { day: "2026-02-27", used: 4 },
      { day: "2026-02-28", used: 0 },
      { day: "2026-03-01", used: 0 },
      { day: "2026-03-02", used: 1 },
    ]);
  });
});

describe(`DELETE /api/me (${MODE})`, () => {
  it("answers 401 to guests", async () => {
    const res = await app.request("DELETE", "/api/me", { ip: nextIp(), headers: SAME_ORIGIN, json: CONFIRM });
    expect(res.status).toBe(401);
  });

  it("refuses a cross-site request with 403 and deletes nothing", async () => {
    const { token, userId } = await app.signUp();
    const res = await app.request("DELETE", "/api/me", { token, headers: { origin: "https://evil.example" }, json: CONFIRM });
    expect(res.status).toBe(403);
    expect(((await res.json()) as ErrorBody).error.code).toBe("forbidden");
    expect(await countRows("auth.users", "id = $1", [userId])).toBe(1);
  });

  it("requires { confirm: \"DELETE\" }: 400 without a body, with another value, or with extra fields", async () => {
    const { token, userId } = await app.signUp();
    const bodies: unknown[] = [undefined, {}, { confirm: "delete" }, { confirm: true }, { confirm: "DELETE", also: 1 }];
    for (const json of bodies) {
      const res = await app.request("DELETE", "/api/me", { token, headers: SAME_ORIGIN, ...(json === undefined ? {} : { json }) });
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorBody).error.code).toBe("invalid_input");
    }
    const malformed = await app.request("DELETE", "/api/me", {
      token,
      headers: { ...SAME_ORIGIN, "content-type": "application/json" },
      body: "{not json",
    });
    expect(malformed.status).toBe(400);
    expect(await countRows("auth.users", "id = $1", [userId])).toBe(1);
  });

  it("deletes the account and every row of its data, keeps events without the user, and clears the cookie", async () => {
    const email = "leaving@example.test";
    const { userId, token } = await app.signUp(email);
    const otherEmail = "staying@example.test";
    const other = await app.signUp(otherEmail);
    await seedAccount(userId, token, email, "leaver");
    const otherGeneration = await seedAccount(other.userId, other.token, otherEmail, "stayer");
    const before = await footprint(userId, email);
    expect(Object.values(before).every((n) => n > 0)).toBe(true);
    const otherBefore = await footprint(other.userId, otherEmail);
    const unlinkedEvents = async () => ({
      funnel: await countRows("litstatus.funnel_events", "user_id is null", []),
      security: await countRows("litstatus.security_events", "user_id is null", []),
      total: (await countRows("litstatus.funnel_events", "true", [])) + (await countRows("litstatus.security_events", "true", [])),
    });
    const eventsBefore = await unlinkedEvents();

    const res = await app.request("DELETE", "/api/me", { token, headers: SAME_ORIGIN, json: CONFIRM });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ deleted: true });
    const cookie = res.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^ls_session=;/);
    expect(cookie).toMatch(/Max-Age=0/);
    expect(cookie).toMatch(/HttpOnly/);

    await app.flush();
    expect(await footprint(userId, email)).toEqual({
      authUsers: 0,
      profiles: 0,
      generations: 0,
      usageDaily: 0,
      usageLedger: 0,
      feedback: 0,
      wishlist: 0,
      loginTokens: 0,
      funnelEvents: 0,
      securityEvents: 0,
    });
    // Events are kept for the statistics, without the user, their IP or user agent.
    const eventsAfter = await unlinkedEvents();
    expect(eventsAfter.total).toBe(eventsBefore.total);
    expect(eventsAfter.funnel - eventsBefore.funnel).toBe(before.funnelEvents);
    expect(eventsAfter.security - eventsBefore.security).toBe(before.securityEvents);
    expect(await countRows("litstatus.funnel_events", "session_id = $1 and user_id is null", ["session-leaver"])).toBe(1);
    expect(await countRows("litstatus.funnel_events", "event = 'generate_success' and user_id is null", [])).toBeGreaterThanOrEqual(2);
    const anonymized = await app.db.query<{ ip: string | null; user_agent: string | null }>(
      `select host(ip) as ip, user_agent from litstatus.security_events where event_type = 'rate_limited' and user_id is null`,
    );
    expect(anonymized).toEqual([{ ip: null, user_agent: null }]);

    // Nobody else lost anything.
    expect(await footprint(other.userId, otherEmail)).toEqual(otherBefore);
    expect(await countRows("litstatus.feedback", "generation_id = $1", [otherGeneration])).toBe(1);

    // The old token names an account that no longer exists.
    const after = await app.request("GET", "/api/me", { token });
    expect(after.status).toBe(401);
    const again = await app.request("DELETE", "/api/me", { token, headers: SAME_ORIGIN, json: CONFIRM });
    expect(again.status).toBe(401);
  });
});
