/**
 * The console's security API against fixture rows: event filters and paging, the daily report
 * and the top offenders; and no malformed query or body on the security and blocklist routes
 * gets a 500. The blocklist's CRUD: app/api/admin/blocklist.int.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "@/e2e/support/harness/app-harness";
import { parseInstant } from "@/lib/admin/security";

let app: TestApp;
let admin: { userId: string; token: string };
let moderator: { userId: string; token: string };
let user: { userId: string; token: string };
let offender: { userId: string; token: string };
/** Only in fixture rows (never makes a request, so no real event is ever recorded for it). */
let quiet: { userId: string; token: string };

const ADMIN_IP = "203.0.113.10";
const HOUR = 3_600_000;
const DAY = 86_400_000;
const now = Date.now();
const ago = (ms: number) => new Date(now - ms).toISOString();
/** A type no real request writes, so fixture numbers are exact whatever else the tests log. */
const T1 = "fixture_probe";
const T2 = "fixture_scan";

interface Page {
  items: { id: string; type: string; severity: string; ip: string | null; userId: string | null; userEmail: string | null; createdAt: string; meta: Record<string, unknown> }[];
  total: number;
  limit: number;
  offset: number;
}

async function body<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

async function errorCode(res: Response): Promise<string | undefined> {
  return (await body<{ error?: { code?: string } }>(res)).error?.code;
}

const get = (path: string, token = moderator.token) => app.request("GET", path, { token, ip: ADMIN_IP });

beforeAll(async () => {
  app = await startTestApp();
  admin = await app.signUp("sec-admin@example.test");
  moderator = await app.signUp("sec-mod@example.test");
  user = await app.signUp();
  offender = await app.signUp("offender@example.test");
  quiet = await app.signUp("quiet@example.test");
  await app.db.query(`update litstatus.profiles set role = 'admin' where user_id = $1`, [admin.userId]);
  await app.db.query(`update litstatus.profiles set role = 'moderator' where user_id = $1`, [moderator.userId]);
  // 12 fixture events: 198.51.100.7 ×6 (5 in the last hour), 198.51.100.8 ×3, 2001:db8::9 ×1, none ×2.
  const rows: [string, string, string | null, string | null, string][] = [
    [T1, "warn", "198.51.100.7", offender.userId, ago(1 * 60_000)],
    [T1, "warn", "198.51.100.7", offender.userId, ago(2 * 60_000)],
    [T1, "error", "198.51.100.7", offender.userId, ago(3 * 60_000)],
    [T2, "critical", "198.51.100.7", null, ago(4 * 60_000)],
    [T2, "info", "198.51.100.7", null, ago(5 * 60_000)],
    [T1, "warn", "198.51.100.7", null, ago(2 * HOUR)],
    [T1, "warn", "198.51.100.8", quiet.userId, ago(10 * 60_000)],
    [T2, "warn", "198.51.100.8", quiet.userId, ago(3 * HOUR)],
    [T2, "warn", "198.51.100.8", null, ago(2 * DAY)],
    [T1, "info", "2001:db8::9", null, ago(3 * DAY)],
    [T1, "info", null, offender.userId, ago(5 * DAY)],
    [T2, "error", null, null, ago(100 * DAY)],
  ];
  for (const [type, severity, ip, userId, at] of rows) {
    await app.db.query(
      `insert into litstatus.security_events (event_type, severity, ip, user_id, path, user_agent, meta, created_at)
       values ($1, $2, $3::inet, $4::uuid, '/api/fixture', 'fixture-agent', '{"fixture":true}'::jsonb, $5)`,
      [type, severity, ip, userId, at],
    );
  }
});

afterAll(async () => {
  await app?.close();
});

describe("GET /api/admin/security-events", () => {
  it("lists newest first with the total, and pages", async () => {
    const all = await body<Page>(await get(`/api/admin/security-events?type=${T1}`));
    expect(all.total).toBe(7);
    const times = all.items.map((i) => i.createdAt);
    expect([...times].sort().reverse()).toEqual(times);
    expect(all.items[0]).toMatchObject({ type: T1, severity: "warn", ip: "198.51.100.7", userId: offender.userId, userEmail: "offender@example.test", meta: { fixture: true } });

    const page1 = await body<Page>(await get(`/api/admin/security-events?type=${T1}&limit=3&offset=0`));
    const page3 = await body<Page>(await get(`/api/admin/security-events?type=${T1}&limit=3&offset=6`));
    expect(page1).toMatchObject({ total: 7, limit: 3, offset: 0 });
    expect(page1.items.map((i) => i.id)).toEqual(all.items.slice(0, 3).map((i) => i.id));
    expect(page3.items.map((i) => i.id)).toEqual(all.items.slice(6).map((i) => i.id));
  });

  it("filters exactly by type, severity, ip (address or CIDR), user and time range", async () => {
    const total = async (q: string) => (await body<Page>(await get(`/api/admin/security-events?${q}`))).total;
    expect(await total(`type=${T2}`)).toBe(5);
    expect(await total(`type=${T1}&severity=warn`)).toBe(4);
    expect(await total(`type=${T2}&severity=critical`)).toBe(1);
    expect(await total(`ip=198.51.100.7`)).toBe(6);
    expect(await total(`ip=198.51.100.0/24&type=${T2}`)).toBe(4);
    expect(await total(`ip=${encodeURIComponent("2001:db8::/32")}`)).toBe(1);
    expect(await total(`userId=${offender.userId}`)).toBe(4);
    expect(await total(`userId=${quiet.userId}`)).toBe(2);
    expect(await total(`userId=${quiet.userId}&type=${T1}`)).toBe(1);
    expect(await total(`type=${T1}&from=${encodeURIComponent(ago(HOUR))}`)).toBe(4);
    expect(await total(`type=${T1}&from=${encodeURIComponent(ago(4 * DAY))}&to=${encodeURIComponent(ago(HOUR))}`)).toBe(2);
  });

  it("refuses bad parameters with 400", async () => {
    for (const q of [
      "severity=fatal",
      "ip=999.1.1.1",
      "ip=10.0.0.0/33",
      "ip=fe80::1%25eth0",
      "userId=not-a-uuid",
      "from=yesterday",
      "from=2026-13-01",
      "from=0000-01-01",
      "to=1899-12-31T23:59:59Z",
      "limit=0",
      "limit=201",
      "offset=-1",
      "type=drop%20table",
      "unknown=1",
      `from=${encodeURIComponent(ago(0))}&to=${encodeURIComponent(ago(HOUR))}`,
    ]) {
      const res = await get(`/api/admin/security-events?${q}`);
      expect(res.status, q).toBe(400);
      expect(await errorCode(res)).toBe("invalid_input");
    }
  });

  it("is for moderators and admins only", async () => {
    expect((await get("/api/admin/security-events", admin.token)).status).toBe(200);
    expect((await get("/api/admin/security-events", user.token)).status).toBe(403);
    expect((await app.request("GET", "/api/admin/security-events", { ip: ADMIN_IP })).status).toBe(401);
  });
});

describe("GET /api/admin/security-report", () => {
  it("counts by UTC day × type × severity over the window, in SQL", async () => {
    const report = await body<{ days: number; daily: { day: string; type: string; severity: string; count: number }[]; from: string }>(
      await get("/api/admin/security-report?days=7"),
    );
    expect(report.days).toBe(7);
    const mine = report.daily.filter((r) => r.type === T1 || r.type === T2);
    // Everything but the 100-day-old row is inside 7 UTC days (5 days ago is always in).
    expect(mine.reduce((n, r) => n + r.count, 0)).toBe(11);
    const key = (ms: number) => new Date(now - ms).toISOString().slice(0, 10);
    const count = (day: string, type: string, severity: string) =>
      mine.filter((r) => r.day === day && r.type === type && r.severity === severity).reduce((n, r) => n + r.count, 0);
    expect(count(key(3 * DAY), T1, "info")).toBe(1);
    expect(count(key(5 * DAY), T1, "info")).toBe(1);
    expect(count(key(2 * DAY), T2, "warn")).toBe(1);
    // The minutes-old rows: one day (or two, right after midnight UTC) — the sums are exact either way.
    const recent = mine.filter((r) => r.day >= key(3 * HOUR));
    expect(recent.filter((r) => r.type === T1 && r.severity === "warn").reduce((n, r) => n + r.count, 0)).toBe(4);
    expect(recent.filter((r) => r.type === T2 && r.severity === "critical").reduce((n, r) => n + r.count, 0)).toBe(1);

    const ninety = await body<{ daily: { type: string; count: number }[] }>(await get("/api/admin/security-report?days=90"));
    expect(ninety.daily.filter((r) => r.type === T1 || r.type === T2).reduce((n, r) => n + r.count, 0)).toBe(11);
    const one = await body<{ daily: { type: string; day: string; count: number }[] }>(await get("/api/admin/security-report?days=1"));
    expect(new Set(one.daily.map((r) => r.day)).size).toBeLessThanOrEqual(1);
  });

  it("names the top offending IPs and users over the last hour and the last day", async () => {
    const { top } = await body<{
      top: Record<"hour" | "day", { ips: { ip: string; count: number; lastSeen: string; blockedBy: string | null }[]; users: { userId: string; email: string | null; count: number }[] }>;
    }>(await get("/api/admin/security-report?days=1"));
    const ip = (window: "hour" | "day", address: string) => top[window].ips.find((r) => r.ip === address);
    expect(ip("hour", "198.51.100.7")).toMatchObject({ count: 5, lastSeen: ago(60_000), blockedBy: null });
    expect(ip("hour", "198.51.100.8")).toMatchObject({ count: 1 });
    expect(ip("day", "198.51.100.7")).toMatchObject({ count: 6 });
    expect(ip("day", "198.51.100.8")).toMatchObject({ count: 2 });
    expect(ip("day", "2001:db8::9")).toBeUndefined();
    // Most first (the tests' own refused requests, from ADMIN_IP, may rank anywhere).
    const order = top.hour.ips.map((r) => r.ip);
    expect(order.indexOf("198.51.100.7")).toBeLessThan(order.indexOf("198.51.100.8"));
    for (const window of ["hour", "day"] as const) {
      const counts = top[window].ips.map((r) => r.count);
      expect([...counts].sort((x, y) => y - x)).toEqual(counts);
    }
    expect(top.hour.users.find((u) => u.userId === offender.userId)).toMatchObject({ count: 3, email: "offender@example.test" });
    expect(top.day.users.find((u) => u.userId === quiet.userId)).toMatchObject({ count: 2, email: "quiet@example.test" });
    expect(top.hour.users.find((u) => u.userId === quiet.userId)).toMatchObject({ count: 1 });
  });

  it("refuses days outside 1..90", async () => {
    for (const q of ["days=0", "days=91", "days=abc", "days=1.5", "other=1"]) {
      expect((await get(`/api/admin/security-report?${q}`)).status, q).toBe(400);
    }
  });
});

describe("parseInstant", () => {
  it("takes ISO dates and times (no zone: UTC) and refuses the rest", () => {
    expect(parseInstant("2026-11-29")?.toISOString()).toBe("2026-11-29T00:00:00.000Z");
    expect(parseInstant("2026-11-29T09:30")?.toISOString()).toBe("2026-11-29T09:30:00.000Z");
    expect(parseInstant("2026-11-29T09:30:15.5+01:00")?.toISOString()).toBe("2026-11-29T08:30:15.500Z");
    for (const bad of ["", "yesterday", "2026-02-31", "2026-11-29T25:00", "1", "2026-11-29T09:30Zjunk"]) expect(parseInstant(bad), bad).toBeNull();
  });
});

describe("malformed input never gets a 500", () => {
  it("answers every one of 600 random queries and bodies with 2xx/4xx in the envelope", async () => {
    const junk = ["", " ", "%00", "'", "\"", "1e9", "-1", "NaN", "Infinity", "0x10", "::", "::ffff:1.2.3.4", "1.2.3.4/", "/24", "1.2.3.4/-1",
      "fe80::1%25lo", "0000-00-00", "2026-11-29T24:00", "9999-12-31T23:59:59Z", "2026-11-29T09:00:00+14:00", "a".repeat(300), "💥", "[]", "{}", "null"];
    const pick = <T,>(xs: readonly T[]) => xs[Math.floor(Math.random() * xs.length)]!;
    const keys = ["type", "severity", "ip", "userId", "from", "to", "limit", "offset", "days", "id", "x"];
    const bodies: unknown[] = [null, [], "x", 1, { ip: 1 }, { cidr: [] }, { ip: "198.51.100.1", reason: {}, ttlSeconds: 600 }, { ip: "198.51.100.1", reason: "r", ttlSeconds: 1e308 }];
    const statuses = new Map<number, number>();
    for (let i = 0; i < 600; i += 1) {
      const query = Array.from({ length: 1 + (i % 3) }, () => `${pick(keys)}=${encodeURIComponent(pick(junk))}`).join("&");
      const kind = i % 4;
      const res =
        kind === 0
          ? await get(`/api/admin/security-events?${query}`)
          : kind === 1
            ? await get(`/api/admin/security-report?${query}`)
            : kind === 2
              ? await app.request("DELETE", `/api/admin/blocklist?${query}`, { token: admin.token, ip: ADMIN_IP })
              : await app.request("POST", "/api/admin/blocklist", {
                  token: admin.token,
                  ip: ADMIN_IP,
                  json: Math.random() < 0.5 ? pick(bodies) : { [pick(["ip", "cidr"])]: pick(junk), reason: pick(junk), ttlSeconds: pick([0, 59, 60.5, -5, "600", 1e12]) },
                });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      expect(res.status, `${kind} ${query}`).toBeLessThan(500);
      if (res.status >= 400) expect(await errorCode(res)).toMatch(/^[a-z_]+$/);
      else await res.body?.cancel();
    }
    expect(statuses.has(500)).toBe(false);
  }, 60_000);
});
