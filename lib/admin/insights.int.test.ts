/**
 * The console's funnel, audit log, wishlist and feedback routes (issue 9 §4 §10 §12), through
 * real requests: the funnel's figures against a hand-computed fixture, the runbook's conversion
 * SQL (read verbatim from docs/RUNBOOK.md) against the route, CSV neutralisation, the audit
 * chain check after a tamper, and the validation and authorization failures.
 */
import { readFile } from "node:fs/promises";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "@/e2e/support/harness/app-harness";
import { recordAudit } from "./audit";
import type { FunnelReport, FunnelEventStats } from "./funnel";

let app: TestApp;
let admin: { userId: string; token: string };
let moderator: { userId: string; token: string };
let plain: { userId: string; token: string };
const users: string[] = [];

const HOUR = 3600_000;
const DAY = 24 * HOUR;

interface Fixture {
  event: string;
  user?: number;
  session?: string;
  ago: number;
  source?: string;
  lang?: string;
  variant?: string;
}

/**
 * The fixture (users U0, U1, U2; guests have no user). A session is converted when it has a
 * page_view in the window and a generate_success in it: recorded in the session, or session-less
 * (older data) under the user id of a signed-in user who viewed a page in the session.
 * In the 7-day window:
 *   sess-aaaa  U0: 2 page_view (google, en, A), generate_click, generate_success in the session  → converted
 *   sess-bbbb  U1: page_view (newsletter, zh, B)                                                  → not
 *   sess-cccc  U2: page_view (google, en, A); U2 has a session-less generate_success (older data) → converted
 *   sess-dddd  guest: page_view (no source, en)                                                   → not
 *   sess-eeee  guest: page_view + generate_click (google, en, B), generate_success in the session → converted
 *   sess-iiii  U0: page_view (newsletter, en, B): U0's success was in sess-aaaa, not here          → not
 *   a guest's session-less generate_success (unattributable) and a generate_success in sess-hhhh,
 *   whose only page_view is 8 days old (not a visitor in this window).
 *   → 6 sessions, 3 converted: 0.5 (sessions only, without the user fallback: 2 of 6).
 * Outside it: U1 page_view 8 days ago (sess-ffff) and a session-less generate_success 10 days ago,
 * sess-hhhh's page_view 8 days ago, a guest page_view 30 days ago (sess-gggg).
 */
const FIXTURE: Fixture[] = [
  { event: "page_view", user: 0, session: "sess-aaaa", ago: 1 * HOUR, source: "google", lang: "en", variant: "A" },
  { event: "page_view", user: 0, session: "sess-aaaa", ago: 2 * HOUR, source: "google", lang: "en", variant: "A" },
  { event: "generate_click", user: 0, session: "sess-aaaa", ago: 1 * HOUR, source: "google", lang: "en", variant: "A" },
  { event: "generate_success", user: 0, session: "sess-aaaa", ago: 50 * 60_000, lang: "en" },
  { event: "page_view", user: 1, session: "sess-bbbb", ago: 2 * DAY, source: "newsletter", lang: "zh", variant: "B" },
  { event: "page_view", user: 2, session: "sess-cccc", ago: 3 * DAY, source: "google", lang: "en", variant: "A" },
  { event: "generate_success", user: 2, ago: 3 * DAY, lang: "en" },
  { event: "page_view", session: "sess-dddd", ago: 1 * HOUR, lang: "en" },
  { event: "page_view", session: "sess-eeee", ago: 5 * HOUR, source: "google", lang: "en", variant: "B" },
  { event: "generate_click", session: "sess-eeee", ago: 5 * HOUR, source: "google", lang: "en", variant: "B" },
  { event: "generate_success", session: "sess-eeee", ago: 5 * HOUR, lang: "en" },
  { event: "page_view", user: 0, session: "sess-iiii", ago: 4 * DAY, source: "newsletter", lang: "en", variant: "B" },
  { event: "generate_success", ago: 4 * HOUR, lang: "en" },
  { event: "generate_success", session: "sess-hhhh", ago: 6 * DAY, lang: "en" },
  // Outside the 7-day window.
  { event: "page_view", user: 1, session: "sess-ffff", ago: 8 * DAY, source: "newsletter", lang: "zh" },
  { event: "generate_success", user: 1, ago: 10 * DAY, lang: "zh" },
  { event: "page_view", session: "sess-hhhh", ago: 8 * DAY, source: "google", lang: "en" },
  { event: "page_view", session: "sess-gggg", ago: 30 * DAY, source: "google", lang: "en" },
];

function stats(events: FunnelEventStats[], name: string): Omit<FunnelEventStats, "event"> {
  const found = events.find((e) => e.event === name);
  expect(found, name).toBeDefined();
  const { event: _event, ...rest } = found!;
  return rest;
}

async function funnel(query: string, token = moderator.token): Promise<FunnelReport> {
  const res = await app.request("GET", `/api/admin/funnel${query}`, { token });
  expect(res.status).toBe(200);
  return (await res.json()) as FunnelReport;
}

async function errorCode(res: Response): Promise<string | undefined> {
  return ((await res.json()) as { error?: { code?: string } }).error?.code;
}

/** The `index`th (0-based) fenced sql block under the runbook heading `## <heading>`, verbatim. */
async function runbookSql(heading: string, index = 0): Promise<string> {
  const text = await readFile(new URL("../../docs/RUNBOOK.md", import.meta.url), "utf8");
  const start = text.indexOf(`\n## ${heading}\n`);
  expect(start, `docs/RUNBOOK.md has "## ${heading}"`).toBeGreaterThanOrEqual(0);
  const section = text.slice(start + 1).split(/\n## /)[0]!;
  const blocks = [...section.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(blocks.length, `sql blocks under "## ${heading}"`).toBeGreaterThan(index);
  return blocks[index]!;
}

beforeAll(async () => {
  app = await startTestApp();
  admin = await app.signUp("insights-admin@example.test");
  moderator = await app.signUp("insights-mod@example.test");
  plain = await app.signUp("insights-user@example.test");
  await app.db.query(`update litstatus.profiles set role = 'admin' where user_id = $1`, [admin.userId]);
  await app.db.query(`update litstatus.profiles set role = 'moderator' where user_id = $1`, [moderator.userId]);
  for (let i = 0; i < 3; i++) users.push((await app.signUp(`funnel-${i}@example.test`)).userId);
  await app.flush();
  // Only the fixture's events count: anything the harness recorded so far goes.
  await app.db.query(`delete from litstatus.funnel_events`);
  const now = Date.now();
  for (const f of FIXTURE) {
    await app.db.query(
      `insert into litstatus.funnel_events (event, user_id, session_id, utm_source, lang, variant, created_at)
       values ($1, $2, $3, $4, $5, $6, $7::timestamptz)`,
      [
        f.event,
        f.user === undefined ? null : users[f.user]!,
        f.session ?? null,
        f.source ?? null,
        f.lang ?? null,
        f.variant ?? null,
        new Date(now - f.ago).toISOString(),
      ],
    );
  }
});

afterAll(async () => {
  await app?.close();
});

describe(`admin insights (${process.env.TEST_DATABASE_URL ? "PostgreSQL" : "PGlite"})`, () => {
  it("funnel: per event count, unique users and sessions over 7 days equal the hand count", async () => {
    const report = await funnel("?days=7");
    expect(report.days).toBe(7);
    expect(report.by).toBeNull();
    expect(stats(report.events, "page_view")).toEqual({ count: 7, uniqueUsers: 3, uniqueSessions: 6 });
    expect(stats(report.events, "generate_click")).toEqual({ count: 2, uniqueUsers: 1, uniqueSessions: 2 });
    // aaaa, eeee and hhhh carry a session; U2's and the guest's session-less rows do not.
    expect(stats(report.events, "generate_success")).toEqual({ count: 5, uniqueUsers: 2, uniqueSessions: 3 });
    expect(stats(report.events, "signup")).toEqual({ count: 0, uniqueUsers: 0, uniqueSessions: 0 });
    // Stage order: page_view first, generate_success third.
    expect(report.events.slice(0, 3).map((e) => e.event)).toEqual(["page_view", "generate_click", "generate_success"]);
    // Sessions aaaa (in session), cccc (U2's session-less success), eeee (a guest, in session) of six.
    expect(report.conversion).toEqual({ from: "page_view", to: "generate_success", visitors: 6, converted: 3, rate: 0.5 });
    expect(Date.parse(report.generatedAt) - Date.parse(report.since)).toBeCloseTo(7 * DAY, -4);
  });

  it("funnel: the 1-day and 180-day windows", async () => {
    const day = await funnel("?days=1");
    expect(stats(day.events, "page_view")).toEqual({ count: 4, uniqueUsers: 1, uniqueSessions: 3 });
    expect(stats(day.events, "generate_success")).toEqual({ count: 3, uniqueUsers: 1, uniqueSessions: 2 });
    // aaaa (U0) and eeee (a guest) of aaaa, dddd, eeee.
    expect(day.conversion).toMatchObject({ visitors: 3, converted: 2, rate: 0.6667 });
    const half = await funnel("?days=180");
    expect(stats(half.events, "page_view")).toEqual({ count: 10, uniqueUsers: 3, uniqueSessions: 9 });
    expect(stats(half.events, "generate_success")).toEqual({ count: 6, uniqueUsers: 3, uniqueSessions: 3 });
    // aaaa, eeee, hhhh in session; cccc (U2) and both of U1's, bbbb and ffff, by the session-less
    // successes; not dddd, gggg (guests without one) nor iiii (U0's success is in another session).
    expect(half.conversion).toMatchObject({ visitors: 9, converted: 6, rate: 0.6667 });
  });

  it("funnel: the breakdown by source, lang and variant (a session's segment is its page views')", async () => {
    const bySource = await funnel("?days=7&by=source");
    expect(bySource.by).toBe("source");
    expect(bySource.breakdown!.map((s) => s.key)).toEqual(["google", "newsletter", null]);
    const [google, newsletter, none] = bySource.breakdown!;
    expect(stats(google!.events, "page_view")).toEqual({ count: 4, uniqueUsers: 2, uniqueSessions: 3 });
    expect(stats(google!.events, "generate_click")).toEqual({ count: 2, uniqueUsers: 1, uniqueSessions: 2 });
    // aaaa, cccc, eeee: all converted, though no success row has a source.
    expect(google!.conversion).toMatchObject({ visitors: 3, converted: 3, rate: 1 });
    expect(stats(newsletter!.events, "page_view")).toEqual({ count: 2, uniqueUsers: 2, uniqueSessions: 2 });
    expect(newsletter!.conversion).toMatchObject({ visitors: 2, converted: 0, rate: 0 });
    // generate_success carries no source: its rows land in the (none) segment, whose one session (dddd) did not convert.
    expect(stats(none!.events, "page_view")).toEqual({ count: 1, uniqueUsers: 0, uniqueSessions: 1 });
    expect(stats(none!.events, "generate_success")).toEqual({ count: 5, uniqueUsers: 2, uniqueSessions: 3 });
    expect(none!.conversion).toMatchObject({ visitors: 1, converted: 0, rate: 0 });
    // The totals do not change with a breakdown.
    expect(bySource.conversion).toMatchObject({ visitors: 6, converted: 3, rate: 0.5 });

    const byLang = await funnel("?days=7&by=lang");
    const en = byLang.breakdown!.find((s) => s.key === "en")!;
    const zh = byLang.breakdown!.find((s) => s.key === "zh")!;
    expect(stats(en.events, "page_view")).toEqual({ count: 6, uniqueUsers: 2, uniqueSessions: 5 });
    expect(stats(en.events, "generate_success")).toEqual({ count: 5, uniqueUsers: 2, uniqueSessions: 3 });
    expect(en.conversion).toMatchObject({ visitors: 5, converted: 3, rate: 0.6 });
    expect(stats(zh.events, "page_view")).toEqual({ count: 1, uniqueUsers: 1, uniqueSessions: 1 });
    expect(zh.conversion).toMatchObject({ visitors: 1, converted: 0, rate: 0 });

    const byVariant = await funnel("?days=7&by=variant");
    expect(byVariant.breakdown!.map((s) => [s.key, s.conversion.visitors, s.conversion.converted, s.conversion.rate])).toEqual([
      ["B", 3, 1, 0.3333], // bbbb, eeee (converted), iiii
      ["A", 2, 2, 1], // aaaa, cccc
      [null, 1, 0, 0], // dddd
    ]);
  });

  it("funnel: the runbook's conversion SQL, run verbatim, equals the route's conversion", async () => {
    const sql = await runbookSql("Funnel conversion");
    expect(sql).toContain("make_interval(days => 7)");
    const [row] = await app.db.query<{ visitors: number; converted: number; rate: string | number | null }>(sql);
    const report = await funnel("?days=7");
    expect({ visitors: Number(row!.visitors), converted: Number(row!.converted), rate: row!.rate === null ? null : Number(row!.rate) }).toEqual({
      visitors: report.conversion.visitors,
      converted: report.conversion.converted,
      rate: report.conversion.rate,
    });
    expect(report.conversion).toMatchObject({ visitors: 6, converted: 3, rate: 0.5 });

    // The runbook's per-segment query (by utm_source) equals the route's breakdown.
    const segmentSql = await runbookSql("Funnel conversion", 1);
    expect(segmentSql).toContain("f.utm_source as key");
    const rows = await app.db.query<{ key: string | null; visitors: number; converted: number; rate: string | number | null }>(segmentSql);
    const bySource = await funnel("?days=7&by=source");
    const fromRoute = bySource.breakdown!.filter((s) => s.conversion.visitors > 0).map((s) => ({ key: s.key, ...s.conversion }));
    expect(rows.map((r) => ({ key: r.key, visitors: Number(r.visitors), converted: Number(r.converted), rate: r.rate === null ? null : Number(r.rate) }))).toEqual(
      fromRoute.map(({ key, visitors, converted, rate }) => ({ key, visitors, converted, rate })),
    );
    expect(rows).toHaveLength(3);
  });

  it("funnel.csv: the same figures as CSV, totals then segments", async () => {
    const res = await app.request("GET", "/api/admin/funnel.csv?days=7&by=source", { token: moderator.token });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(res.headers.get("content-disposition")).toContain("funnel-7d-by-source.csv");
    const lines = (await res.text()).split("\r\n");
    expect(lines[0]).toBe("segment,event,count,uniqueUsers,uniqueSessions,conversionVisitors,conversionConverted,conversionRate");
    expect(lines).toContain("all,page_view,7,3,6,6,3,0.5");
    expect(lines).toContain("all,generate_success,5,2,3,6,3,0.5");
    expect(lines).toContain("source=google,page_view,4,2,3,3,3,1");
    expect(lines).toContain("source=(none),generate_success,5,2,3,1,0,0");
  });

  it("funnel: bad days or by, and unknown parameters, are 400; a user is 403, a guest 401", async () => {
    for (const q of ["?days=2", "?days=abc", "?days=7.5", "?by=country", "?days=7&extra=1", "?days=-1"]) {
      for (const path of ["/api/admin/funnel", "/api/admin/funnel.csv"]) {
        const res = await app.request("GET", `${path}${q}`, { token: admin.token });
        expect(res.status, `${path}${q}`).toBe(400);
        expect(await errorCode(res)).toBe("invalid_input");
      }
    }
    expect((await app.request("GET", "/api/admin/funnel", { token: plain.token })).status).toBe(403);
    expect((await app.request("GET", "/api/admin/funnel")).status).toBe(401);
    // Without parameters: the 7-day window, no breakdown.
    const report = await funnel("", admin.token);
    expect(report.days).toBe(7);
    expect(report.breakdown).toBeUndefined();
  });

  it("wishlist: paged JSON and a CSV export with formula cells neutralised", async () => {
    await app.db.query(
      `insert into litstatus.pro_wishlist (email, note, lang, created_at) values
         ('first@example.test', 'plain note', 'en', now() - interval '2 minutes'),
         ('second@example.test', '=HYPERLINK("http://evil.example/x","click")', 'zh', now() - interval '1 minute'),
         ('third@example.test', '+1 from me, "quoted"', null, now())`,
    );
    const res = await app.request("GET", "/api/admin/wishlist?limit=2", { token: moderator.token });
    expect(res.status).toBe(200);
    const page = (await res.json()) as { items: { email: string; note: string | null }[]; total: number; limit: number; offset: number };
    expect(page).toMatchObject({ total: 3, limit: 2, offset: 0 });
    expect(page.items.map((i) => i.email)).toEqual(["third@example.test", "second@example.test"]);
    const next = (await (await app.request("GET", "/api/admin/wishlist?limit=2&offset=2", { token: moderator.token })).json()) as typeof page;
    expect(next.items.map((i) => i.email)).toEqual(["first@example.test"]);

    const csv = await app.request("GET", "/api/admin/wishlist.csv", { token: moderator.token });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-disposition")).toContain("wishlist.csv");
    const text = await csv.text();
    expect(text.split("\r\n")[0]).toBe("id,email,note,userId,lang,createdAt,updatedAt");
    expect(text).toContain(`,"'=HYPERLINK(""http://evil.example/x"",""click"")",`);
    expect(text).toContain(`,"'+1 from me, ""quoted""",`);
    expect(text).not.toMatch(/(^|,)=HYPERLINK/m);
    expect(text.trim().split("\r\n")).toHaveLength(4);

    for (const q of ["?limit=0", "?limit=201", "?offset=-1", "?limit=x", "?sort=email"]) {
      expect((await app.request("GET", `/api/admin/wishlist${q}`, { token: moderator.token })).status, q).toBe(400);
    }
    expect((await app.request("GET", "/api/admin/wishlist.csv?x=1", { token: moderator.token })).status).toBe(400);
    expect((await app.request("GET", "/api/admin/wishlist.csv", { token: plain.token })).status).toBe(403);
  });

  it("feedback: paged JSON and CSV, guests marked without their address hash", async () => {
    const generationId = randomUUID();
    await app.db.query(
      `insert into litstatus.generations (id, user_id, status, mode, lang, input_hash) values ($1, null, 'complete', 'standard', 'en', 'h')`,
      [generationId],
    );
    await app.db.query(
      `insert into litstatus.feedback (generation_id, user_id, client_hash, rating, comment, created_at) values
         ($1, $2, null, 1, 'love it', now() - interval '1 minute'),
         ($1, null, $3, -1, '@everyone -bad', now())`,
      [generationId, users[0]!, "a".repeat(64)],
    );
    const res = await app.request("GET", "/api/admin/feedback", { token: moderator.token });
    expect(res.status).toBe(200);
    const page = (await res.json()) as { items: Record<string, unknown>[]; total: number };
    expect(page.total).toBe(2);
    expect(page.items[0]).toMatchObject({ generationId, userId: null, guest: true, rating: -1, comment: "@everyone -bad" });
    expect(page.items[1]).toMatchObject({ generationId, userId: users[0], guest: false, rating: 1, comment: "love it" });
    expect(JSON.stringify(page)).not.toContain("a".repeat(64));

    const csv = await (await app.request("GET", "/api/admin/feedback.csv", { token: moderator.token })).text();
    expect(csv.split("\r\n")[0]).toBe("id,generationId,userId,guest,rating,comment,createdAt,updatedAt");
    expect(csv).toContain(",true,down,'@everyone -bad,");
    expect(csv).toContain(",false,up,love it,");
    expect(csv).not.toContain("a".repeat(64));
  });

  it("audit: paged with filters, CSV by date range, and verify names a tampered row", async () => {
    const actor = { userId: admin.userId, email: "insights-admin@example.test", ip: "203.0.113.9", requestId: "req-insights" };
    for (let i = 0; i < 5; i++) await recordAudit(actor, { action: i % 2 ? "user.update" : "blocklist.add", target: `t${i}`, after: { n: i } });
    await recordAudit(actor, { action: "blocklist.remove", target: "=cmd|' /C calc'!A0" });

    const res = await app.request("GET", "/api/admin/audit?action=blocklist&limit=2", { token: moderator.token });
    expect(res.status).toBe(200);
    const page = (await res.json()) as { items: { id: string; action: string; target: string }[]; total: number; limit: number; offset: number };
    expect(page).toMatchObject({ total: 4, limit: 2, offset: 0 });
    expect(page.items.map((i) => i.action)).toEqual(["blocklist.remove", "blocklist.add"]);
    const byActor = (await (await app.request("GET", "/api/admin/audit?actor=INSIGHTS-ADMIN@example.test&action=user.update", { token: moderator.token })).json()) as typeof page;
    expect(byActor.total).toBe(2);
    const future = (await (await app.request("GET", "/api/admin/audit?from=2999-01-01", { token: moderator.token })).json()) as typeof page;
    expect(future.total).toBe(0);

    const csv = await app.request("GET", `/api/admin/audit.csv?from=2000-01-01&to=2999-01-01T00:00:00Z`, { token: moderator.token });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-disposition")).toContain("audit-log.csv");
    const text = await csv.text();
    expect(text.split("\r\n")[0]).toBe("id,createdAt,actorId,actorEmail,action,target,before,after,ip,requestId,prevHash,hash");
    expect(text.trim().split("\r\n")).toHaveLength(7);
    expect(text).toContain(`,'=cmd|' /C calc'!A0,`);
    expect(text).toContain(`"{""n"":0}"`);
    const empty = await (await app.request("GET", `/api/admin/audit.csv?to=2000-01-01`, { token: moderator.token })).text();
    expect(empty.trim().split("\r\n")).toHaveLength(1);

    const ok = await app.request("GET", "/api/admin/audit/verify", { token: moderator.token });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true, rows: 6 });

    const all = (await (await app.request("GET", "/api/admin/audit?limit=200", { token: moderator.token })).json()) as typeof page;
    const victim = all.items[3]!; // the third oldest of six
    await app.db.query(`update litstatus.admin_audit_log set after = '{"n": 99}'::jsonb where id = $1::bigint`, [victim.id]);
    const broken = await app.request("GET", "/api/admin/audit/verify", { token: moderator.token });
    expect(broken.status).toBe(200);
    expect(await broken.json()).toEqual({ ok: false, rows: 3, firstBrokenId: victim.id });
  });

  it("audit: bad filters are 400; users are 403, guests 401", async () => {
    for (const q of [
      "?limit=0",
      "?limit=500",
      "?offset=-3",
      "?from=yesterday",
      "?to=2026-02-31",
      "?from=2026-12-01&to=2026-11-01",
      "?action=DROP%20TABLE",
      "?actor=",
      "?unknown=1",
    ]) {
      const res = await app.request("GET", `/api/admin/audit${q}`, { token: admin.token });
      expect(res.status, q).toBe(400);
      expect(await errorCode(res)).toBe("invalid_input");
    }
    for (const q of ["?from=nope", "?limit=5", "?from=2026-12-01&to=2026-11-01"]) {
      expect((await app.request("GET", `/api/admin/audit.csv${q}`, { token: admin.token })).status, q).toBe(400);
    }
    expect((await app.request("GET", "/api/admin/audit/verify?x=1", { token: admin.token })).status).toBe(400);
    for (const path of ["/api/admin/audit", "/api/admin/audit/verify", "/api/admin/audit.csv", "/api/admin/feedback", "/api/admin/feedback.csv"]) {
      expect((await app.request("GET", path, { token: plain.token })).status, path).toBe(403);
      expect((await app.request("GET", path)).status, path).toBe(401);
    }
    expect((await app.request("POST", "/api/admin/audit/verify", { token: admin.token, json: {} })).status).toBe(405);
  });
});
