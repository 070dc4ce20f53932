/**
 * docs/RUNBOOK.md kept true (the funnel's SQL: insights.int.test.ts).
 *
 * - Database checks: each SQL block, run verbatim against the migrated schema, gives the figures
 *   of the console's Database page (lib/admin/database.ts), and is that page's SQL character for
 *   character (whitespace aside); on PGlite the two session checks are unavailable, as the
 *   runbook says.
 * - Security events: each SQL block, run verbatim on fixture rows, gives the console's figures
 *   (lib/admin/security.ts, the alert rules' counts) and the hand count.
 * - Redis: the runbook's key table is parsed; on real Redis a guest generation, a cache hit, an
 *   Idempotency-Key request that is the half-open breaker's probe, rate limits of every kind, a
 *   blocklist entry, alert transitions with a webhook and the request series are driven through
 *   the real code, and every key written under the prefix must match exactly one documented
 *   pattern, with the documented type and an expiry, and every documented pattern must be seen.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "@/e2e/support/harness/app-harness";
import { getEnv } from "@/lib/env";
import { BREAKER_KEY, BREAKER_PROBE_KEY, INFLIGHT_KEY, cacheKey, cacheStatsKeys } from "@/lib/generation/keys";
import { BLOCKLIST_KEY } from "@/lib/kv/types";
import { GAUGES_KEY, minuteKey, seriesWriter } from "@/lib/observability/series";
import { guestQuotaKey, utcDay } from "@/lib/quota";
import { afterResponseIdle } from "@/lib/util/after-response";
import { ALERT_RULES, STATE_KEY, gatherAlertInputs, settleAlertDeliveries } from "./alerts";
import { LONG_QUERY_SECONDS, databaseReport, type IndexUsage, type TableSize } from "./database";
import { listSecurityEvents, securityEventsQuery, securityReport } from "./security";

const REDIS_URL = process.env.TEST_REDIS_URL;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// ---------------------------------------------------------------------------------------------
// Reading the runbook

let runbookText: string | undefined;
async function runbook(): Promise<string> {
  runbookText ??= await readFile(new URL("../../docs/RUNBOOK.md", import.meta.url), "utf8");
  return runbookText;
}

/** The text under `<hashes> <heading>` up to the next heading of the same or a higher level. */
function sectionOf(text: string, hashes: "##" | "###", heading: string): string {
  const start = text.indexOf(`\n${hashes} ${heading}\n`);
  expect(start, `docs/RUNBOOK.md has "${hashes} ${heading}"`).toBeGreaterThanOrEqual(0);
  const body = text.slice(start + hashes.length + heading.length + 3);
  const end = hashes === "##" ? body.search(/\n## /) : body.search(/\n##?#? /);
  return end === -1 ? body : body.slice(0, end);
}

/** The fenced sql blocks under `## <section>` → `### <sub>`, verbatim. */
async function sqlUnder(section: string, sub: string): Promise<string[]> {
  const text = sectionOf(sectionOf(await runbook(), "##", section), "###", sub);
  const blocks = [...text.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(blocks.length, `sql blocks under "${section}" → "${sub}"`).toBeGreaterThan(0);
  return blocks;
}

/** What a placeholder of the key table may stand for (the runbook's legend says it in words). */
const PLACEHOLDERS: Record<string, string> = {
  ip: "(?:[0-9a-fA-F.:]+|unknown)",
  day: "\\d{4}-\\d{2}-\\d{2}",
  sha256: "[0-9a-f]{64}",
  limit: "(?:generate|api|signin)",
  who: "(?:ip:(?:[0-9a-fA-F.:]+|unknown)|user:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})",
  minute: "\\d+",
  rule: `(?:${ALERT_RULES.map((r) => r.id).join("|")})`,
  transition: "(?:firing|resolved)",
  since: "\\d+",
};
const REDIS_TYPES = new Set(["string", "hash", "zset", "set", "list", "stream"]);

interface KeyRow {
  /** As written in the runbook, after `${P}`. */
  pattern: string;
  type: string;
  regex: RegExp;
}

const escapeRegex = (literal: string) => literal.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The rows of the table under `## Redis` → `### Keys`: key pattern, type (the other columns are prose). */
async function keyTable(): Promise<KeyRow[]> {
  const text = sectionOf(sectionOf(await runbook(), "##", "Redis"), "###", "Keys");
  const lines = text.split("\n").filter((line) => line.startsWith("|"));
  const cells = (line: string) => line.slice(1, -1).split("|").map((c) => c.trim());
  expect(cells(lines[0]!).slice(0, 2), "the key table's first columns").toEqual(["key", "type"]);
  return lines.slice(2).map((line) => {
    const [key = "", type = ""] = cells(line);
    const m = /^`\$\{P\}([^`]+)`$/.exec(key);
    expect(m, `a key cell is one \`\${P}…\` pattern: ${key}`).not.toBeNull();
    const pattern = m![1]!;
    expect(REDIS_TYPES.has(type), `${pattern}: a Redis type, not "${type}"`).toBe(true);
    const source = pattern
      .split(/(<[^>]+>)/)
      .map((part) => {
        if (!part.startsWith("<")) return escapeRegex(part);
        const name = part.slice(1, -1);
        expect(PLACEHOLDERS[name], `${pattern}: the placeholder ${part} is one the test knows`).toBeDefined();
        return PLACEHOLDERS[name]!;
      })
      .join("");
    return { pattern, type, regex: new RegExp(`^${source}$`) };
  });
}

/** The documented patterns `key` (without the prefix) matches; exactly one is right. */
const matching = (rows: KeyRow[], key: string) => rows.filter((r) => r.regex.test(key));

// ---------------------------------------------------------------------------------------------
// Fixture

let app: TestApp;
let webhook: Server;
const webhookCalls: { alert: string; state: string }[] = [];
let admin: { userId: string; token: string };
let userA: { userId: string; token: string };
let userB: { userId: string; token: string };

interface EventFixture {
  type: string;
  severity: "info" | "warn" | "error" | "critical";
  ip: string | null;
  user: "A" | "B" | null;
  ago: number;
}

/**
 * In the last 5 minutes: 2 rate_limited (warn), 2 error-severity events. In the last hour: 8
 * events; 198.51.100.7 ×3, 198.51.100.8 ×2, 2001:db8::5 ×1, 198.51.100.9 ×1; user A ×2, user B ×2.
 * Older: 2 hours, 2 days, 3 days, 6 days and 10 days ago (only the last outside the 7-day report).
 */
const EVENTS: EventFixture[] = [
  { type: "rate_limited", severity: "warn", ip: "198.51.100.7", user: null, ago: 2 * MINUTE },
  { type: "rate_limited", severity: "warn", ip: "198.51.100.7", user: null, ago: 3 * MINUTE },
  { type: "breaker_open", severity: "error", ip: null, user: null, ago: 1 * MINUTE },
  { type: "upstream_failure", severity: "error", ip: "2001:db8::5", user: null, ago: 4 * MINUTE },
  { type: "rate_limited", severity: "warn", ip: "198.51.100.8", user: "A", ago: 10 * MINUTE },
  { type: "forbidden", severity: "warn", ip: "198.51.100.8", user: "A", ago: 20 * MINUTE },
  { type: "csp_violation", severity: "info", ip: "198.51.100.9", user: "B", ago: 30 * MINUTE },
  { type: "content_safety_violation", severity: "critical", ip: "198.51.100.7", user: "B", ago: 40 * MINUTE },
  { type: "rate_limited", severity: "warn", ip: "198.51.100.7", user: null, ago: 2 * HOUR },
  { type: "invalid_input", severity: "info", ip: "198.51.100.10", user: null, ago: 2 * DAY },
  { type: "forbidden", severity: "warn", ip: "198.51.100.7", user: "A", ago: 3 * DAY },
  // Always on the first day of the 7-day report (the UTC day six days before today).
  { type: "csp_violation", severity: "info", ip: null, user: null, ago: 6 * DAY },
  { type: "quota_exceeded", severity: "info", ip: "198.51.100.11", user: null, ago: 10 * DAY },
];

beforeAll(async () => {
  webhook = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      webhookCalls.push(JSON.parse(body) as { alert: string; state: string });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, "127.0.0.1", resolve));
  const { port } = webhook.address() as AddressInfo;
  app = await startTestApp({ ALERT_WEBHOOK_URL: `http://127.0.0.1:${port}/alerts` });
  admin = await app.signUp("runbook-admin@example.test");
  userA = await app.signUp("runbook-a@example.test");
  userB = await app.signUp("runbook-b@example.test");
  await app.db.query(`update litstatus.profiles set role = 'admin' where user_id = $1`, [admin.userId]);
  await app.flush();
  await app.db.query(`delete from litstatus.security_events`);
  const now = Date.now();
  const users = { A: userA.userId, B: userB.userId };
  for (const e of EVENTS) {
    await app.db.query(
      `insert into litstatus.security_events (event_type, severity, ip, user_id, path, meta, created_at)
       values ($1, $2, $3::inet, $4::uuid, '/api/fixture', '{"fixture":true}'::jsonb, $5::timestamptz)`,
      [e.type, e.severity, e.ip, e.user ? users[e.user] : null, new Date(now - e.ago).toISOString()],
    );
  }
});

afterAll(async () => {
  await app?.close();
  await new Promise((resolve) => webhook?.close(resolve));
});

const isoOf = (value: unknown): string => new Date(value as string | Date).toISOString();
const byState = (rows: { state: string; count: number }[]) => [...rows].sort((a, b) => a.state.localeCompare(b.state));

// ---------------------------------------------------------------------------------------------

describe(`runbook: database checks (${process.env.TEST_DATABASE_URL ? "PostgreSQL" : "PGlite"})`, () => {
  it("each check's SQL is the console's (lib/admin/database.ts), whitespace aside, and the console runs no other", async () => {
    const normal = (sql: string) => sql.trim().replace(/;$/, "").replace(/\s+/g, " ");
    const source = await readFile(new URL("./database.ts", import.meta.url), "utf8");
    const consoleSql = [...source.matchAll(/`([^`]*)`/g)].map((m) => normal(m[1]!)).filter((s) => /^select\b/i.test(s));
    expect(LONG_QUERY_SECONDS).toBe(300);
    const documented: string[] = [];
    for (const sub of ["Active connections", "Queries running > 5 min", "Table sizes", "Index usage"]) {
      for (const block of await sqlUnder("Database checks", sub)) {
        // The console passes the threshold as a parameter; the runbook writes it out.
        const asRun = normal(block).replace("make_interval(secs => 300)", "make_interval(secs => $1)");
        expect(consoleSql, `${sub}: the runbook's SQL is the console's`).toContain(asRun);
        documented.push(asRun);
      }
    }
    expect(documented).toHaveLength(5);
    expect([...consoleSql].sort()).toEqual([...documented].sort());
  });

  it("active connections: the runbook's queries give the page's total, states and maximum; on PGlite the page says unavailable", async () => {
    const [statesSql, maxSql] = await sqlUnder("Database checks", "Active connections");
    expect(maxSql).toBeDefined();
    if (app.db.kind === "pglite") {
      const report = await databaseReport();
      expect(report.connections).toEqual({ available: false, reason: expect.stringContaining("PGlite") as unknown });
      // What the console does not run: no client backends in an embedded database.
      expect(await app.db.query(statesSql!)).toEqual([]);
      return;
    }
    const before = await app.db.query<{ state: string; count: number }>(statesSql!);
    const report = await databaseReport();
    const after = await app.db.query<{ state: string; count: number }>(statesSql!);
    const [max] = await app.db.query<{ max: number }>(maxSql!);
    if (!report.connections.available) throw new Error(`connections unavailable: ${report.connections.reason}`);
    // The pool's sessions may change between two reads; the page's figures are one of the runbook's.
    expect([byState(before), byState(after)]).toContainEqual(byState(report.connections.byState));
    expect(report.connections.total).toBe(report.connections.byState.reduce((n, r) => n + r.count, 0));
    expect(report.connections.max).toBe(max!.max);
    expect(max!.max).toBeGreaterThan(0);
    // The session asking is one of them, active.
    expect(before.find((r) => r.state === "active")?.count).toBeGreaterThanOrEqual(1);
  });

  it("queries running > 5 min: the runbook's query gives the page's list, and finds a long statement by its pid", async () => {
    const [sql] = await sqlUnder("Database checks", "Queries running > 5 min");
    expect(sql).toContain("make_interval(secs => 300)");
    type Row = { pid: number; user: string | null; state: string | null; startedAt: string | Date; seconds: number; query: string };
    if (app.db.kind === "pglite") {
      const report = await databaseReport();
      expect(report.longRunningQueries).toEqual({ available: false, reason: expect.stringContaining("PGlite") as unknown });
      // The one session leaves itself out.
      expect(await app.db.query(sql!)).toEqual([]);
      expect(await app.db.query(sql!.replace("secs => 300", "secs => 0"))).toEqual([]);
      return;
    }
    const rows = await app.db.query<Row>(sql!);
    const report = await databaseReport();
    if (!report.longRunningQueries.available) throw new Error(`long queries unavailable: ${report.longRunningQueries.reason}`);
    expect(report.longRunningQueries.thresholdSeconds).toBe(300);
    expect(report.longRunningQueries.items).toEqual(rows.map((r) => ({ ...r, startedAt: isoOf(r.startedAt), seconds: Math.round(r.seconds) })));

    // Nothing runs for 5 minutes in a test: with the threshold at 0 the same query must find a
    // statement running in another session, which the runbook's advice then cancels.
    const sleeper = app.db.query(`select pg_sleep(60) /* runbook-sleeper */`).then(
      () => "finished",
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    let found: Row | undefined;
    for (let i = 0; i < 200 && !found; i++) {
      found = (await app.db.query<Row>(sql!.replace("secs => 300", "secs => 0"))).find((r) => r.query.includes("runbook-sleeper"));
      if (!found) await sleep(25);
    }
    expect(found, "the runbook's query (threshold 0) lists the long statement").toBeDefined();
    expect(found).toMatchObject({ state: "active", user: expect.any(String) as unknown });
    const [cancelled] = await app.db.query<{ ok: boolean }>(`select pg_cancel_backend($1::int) as ok`, [found!.pid]);
    expect(cancelled!.ok).toBe(true);
    expect(await sleeper).toMatch(/cancel/i);
  });

  it("table sizes: the runbook's query gives the page's rows, on both databases", async () => {
    const [sql] = await sqlUnder("Database checks", "Table sizes");
    const before = await app.db.query<TableSize>(sql!);
    const report = await databaseReport();
    const after = await app.db.query<TableSize>(sql!);
    if (!report.tableSizes.available) throw new Error(`table sizes unavailable: ${report.tableSizes.reason}`);
    expect([before, after]).toContainEqual(report.tableSizes.items);
    const tables = before.map((r) => r.table);
    for (const table of ["security_events", "generations", "funnel_events", "profiles", "admin_audit_log"]) expect(tables).toContain(table);
    const events = before.find((r) => r.table === "security_events")!;
    expect(events.tableBytes).toBeGreaterThan(0);
    expect(events.totalBytes).toBeGreaterThanOrEqual(events.tableBytes + events.indexBytes);
  });

  it("index usage: the runbook's query gives the page's rows, scans included, on both databases", async () => {
    const [sql] = await sqlUnder("Database checks", "Index usage");
    const [row] = await app.db.query<{ id: number }>(`select min(id)::float8 as id from litstatus.security_events`);
    // One index scan on the primary key, counted now (PostgreSQL adds a session's scans when it goes idle).
    await app.db.transaction(async (tx) => {
      await tx.query(`select set_config('enable_seqscan', 'off', true)`);
      await tx.query(`select id from litstatus.security_events where id = $1`, [row!.id]);
      await tx.query(`select pg_stat_force_next_flush()`);
    });
    const before = await app.db.query<IndexUsage>(sql!);
    const report = await databaseReport();
    const after = await app.db.query<IndexUsage>(sql!);
    if (!report.indexUsage.available) throw new Error(`index usage unavailable: ${report.indexUsage.reason}`);
    expect([before, after]).toContainEqual(report.indexUsage.items);
    const pkey = before.find((r) => r.index === "security_events_pkey");
    expect(pkey).toMatchObject({ table: "security_events" });
    expect(pkey!.scans).toBeGreaterThanOrEqual(1);
    expect(before.map((r) => r.index)).toContain("security_events_created_idx");
  });
});

describe(`runbook: security events (${process.env.TEST_DATABASE_URL ? "PostgreSQL" : "PGlite"})`, () => {
  it("by type and severity, last hour: each count is the console's filtered total, and the hand count", async () => {
    const [sql] = await sqlUnder("Security events", "By type and severity, last hour");
    const rows = await app.db.query<{ event_type: string; severity: string; count: number }>(sql!);
    expect(rows.map((r) => [r.event_type, r.severity, r.count])).toEqual([
      ["rate_limited", "warn", 3],
      ["breaker_open", "error", 1],
      ["content_safety_violation", "critical", 1],
      ["csp_violation", "info", 1],
      ["forbidden", "warn", 1],
      ["upstream_failure", "error", 1],
    ]);
    const from = new Date(Date.now() - HOUR).toISOString();
    for (const r of rows) {
      const page = await listSecurityEvents(securityEventsQuery.parse({ type: r.event_type, severity: r.severity, from, limit: "1" }));
      expect(page.total, `${r.event_type}/${r.severity}`).toBe(r.count);
    }
    const all = await listSecurityEvents(securityEventsQuery.parse({ from, limit: "1" }));
    expect(all.total).toBe(rows.reduce((n, r) => n + r.count, 0));
  });

  it("daily report: the runbook's query is the console's 7-day report", async () => {
    const [sql] = await sqlUnder("Security events", "Daily report");
    expect(sql).toContain("interval '6 days'");
    const rows = await app.db.query<{ day: string; type: string; severity: string; count: number }>(sql!);
    const report = await securityReport(7);
    expect(rows).toEqual(report.daily);
    // The 10-day-old event is out; the rest are in.
    expect(rows.reduce((n, r) => n + r.count, 0)).toBe(EVENTS.length - 1);
  });

  it("top IPs and users, last hour: the console's tables", async () => {
    const [ipsSql, usersSql] = await sqlUnder("Security events", "Top IPs and users, last hour");
    const ips = await app.db.query<{ ip: string; count: number; lastSeen: string | Date }>(ipsSql!);
    const users = await app.db.query<{ userId: string; email: string | null; count: number; lastSeen: string | Date }>(usersSql!);
    const report = await securityReport(7);
    expect(ips.map((r) => ({ ...r, lastSeen: isoOf(r.lastSeen) }))).toEqual(report.top.hour.ips.map(({ blockedBy: _blockedBy, ...r }) => r));
    expect(users.map((r) => ({ ...r, lastSeen: isoOf(r.lastSeen) }))).toEqual(report.top.hour.users);
    expect(ips.map((r) => [r.ip, r.count])).toEqual([
      ["198.51.100.7", 3],
      ["198.51.100.8", 2],
      ["2001:db8::5", 1],
      ["198.51.100.9", 1],
    ]);
    expect(users.map((r) => [r.email, r.count])).toEqual([
      ["runbook-a@example.test", 2],
      ["runbook-b@example.test", 2],
    ]);
  });

  it("the two security alert rules: the runbook's counts are the rules' values", async () => {
    const [sql] = await sqlUnder("Security events", "The two security alert rules");
    const [row] = await app.db.query<{ rate_limited: number; high_severity: number }>(sql!);
    const inputs = await gatherAlertInputs();
    expect(row).toEqual({ rate_limited: inputs.rateLimitViolations, high_severity: inputs.highSeverityEvents });
    expect(row).toEqual({ rate_limited: 2, high_severity: 2 });
  });
});

describe("runbook: Redis keys", () => {
  it("the key table parses, and the code's own key names and builders each match exactly one documented pattern", async () => {
    const rows = await keyTable();
    expect(rows.length).toBeGreaterThanOrEqual(10);
    expect(new Set(rows.map((r) => r.pattern)).size).toBe(rows.length);
    const day = utcDay(Date.now());
    const examples = [
      guestQuotaKey("203.0.113.7", day),
      guestQuotaKey("2001:db8::7", day),
      guestQuotaKey(null, day),
      cacheKey({ mode: "standard", lang: "en", model: "gpt-4o-mini", promptVersion: "v1", controls: "[]", text: "hello" }),
      INFLIGHT_KEY,
      BREAKER_KEY,
      BREAKER_PROBE_KEY,
      cacheStatsKeys(day).hitsKey,
      cacheStatsKeys(day).missesKey,
      BLOCKLIST_KEY,
      STATE_KEY,
      GAUGES_KEY,
      minuteKey(Math.floor(Date.now() / MINUTE)),
    ];
    for (const key of examples) expect(matching(rows, key).map((r) => r.pattern), key).toHaveLength(1);
  });

  describe.skipIf(!REDIS_URL)("on real Redis: every key written is documented, and every documented key is written", () => {
    interface Seen {
      type: string;
      pttl: number;
    }
    const seen = new Map<string, Seen>();
    let redis: IORedis;
    let prefix = "";
    const GUEST = "203.0.113.61";
    const HIT_GUEST = "203.0.113.62";
    const SIGNIN = "203.0.113.63";
    const PROBE_GUEST = "2001:db8::64";
    const IDEMPOTENCY_KEY = "runbook-key-1";
    const BLOCKED = "192.0.2.99";
    let firstMinute = 0;
    let blockId = "";

    /** Every key under the prefix now, with its type and PTTL, added to `seen`. */
    async function snapshot(): Promise<Map<string, Seen>> {
      const now = new Map<string, Seen>();
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
        for (const key of keys) {
          const [type, pttl] = await Promise.all([redis.type(key), redis.pttl(key)]);
          if (type !== "none") now.set(key.slice(prefix.length), { type, pttl });
        }
        cursor = next;
      } while (cursor !== "0");
      for (const [key, value] of now) seen.set(key, value);
      return now;
    }

    async function ok(res: Response, what: string): Promise<Response> {
      expect(res.status, `${what}: ${res.status} ${res.status >= 400 ? await res.clone().text() : ""}`).toBeLessThan(300);
      return res;
    }

    beforeAll(async () => {
      prefix = getEnv().REDIS_KEY_PREFIX;
      expect(prefix).not.toBe("");
      redis = new IORedis(REDIS_URL!, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
      firstMinute = Math.floor(Date.now() / MINUTE);
      app.fake.reset();

      // A guest's miss (quota, cache entry, miss counter, breaker, generate limit), then the same
      // caption from another guest: a hit.
      await ok(await app.generate({ text: "Runbook keys: a walk by the sea", mode: "standard", lang: "en" }, { ip: GUEST, stream: false }), "guest miss");
      await afterResponseIdle();
      const hit = await ok(await app.generate({ text: "Runbook keys: a walk by the sea", mode: "standard", lang: "en" }, { ip: HIT_GUEST, stream: false }), "guest hit");
      expect(((await hit.json()) as { cached: boolean }).cached).toBe(true);
      // A signed-in user's generation (their limit is per user), a sign-in link request (the
      // signin limit), an admin's blocklist entry (the api limit, per user).
      await ok(await app.generate({ text: "Runbook keys: coffee at dawn", mode: "rizz", lang: "en" }, { token: userA.token, stream: false }), "user generation");
      await app.request("POST", "/api/auth/local/start", { ip: SIGNIN, json: { email: "runbook-signin@example.test" } });
      const block = await ok(
        await app.request("POST", "/api/admin/blocklist", { token: admin.token, json: { ip: BLOCKED, reason: "runbook test", ttlSeconds: 600 } }),
        "block",
      );
      blockId = ((await block.json()) as { id: string }).id;

      // The breaker forced open: the alert fires (state, and the webhook's claim).
      await ok(await app.request("POST", "/api/admin/breaker", { token: admin.token, json: { action: "force-open", seconds: 1 } }), "force open");
      await ok(await app.request("GET", "/api/admin/alerts", { token: admin.token }), "alerts");
      await settleAlertDeliveries();

      // Once half-open, a slow guest request with an Idempotency-Key is the probe: while it waits on
      // the model it holds an in-flight lease, the probe and the idempotency lock.
      let state = "";
      for (let i = 0; i < 400 && state !== "half-open"; i++) {
        state = ((await (await app.request("GET", "/api/admin/breaker", { token: admin.token })).json()) as { state: string }).state;
        if (state !== "half-open") await sleep(25);
      }
      expect(state).toBe("half-open");
      app.fake.set({ latencyMs: 1500 });
      const probe = app.generate(
        { text: "Runbook keys: the probe", mode: "savage", lang: "en" },
        { ip: PROBE_GUEST, stream: false, headers: { "idempotency-key": IDEMPOTENCY_KEY } },
      );
      for (let i = 0; i < 400 && app.fake.stats().inFlight === 0; i++) await sleep(10);
      expect(app.fake.stats().inFlight).toBe(1);
      const during = await snapshot();
      for (const key of [INFLIGHT_KEY, `${INFLIGHT_KEY}:since`, BREAKER_PROBE_KEY]) expect(during.has(key), key).toBe(true);
      await ok(await probe, "probe");
      await afterResponseIdle();
      app.fake.reset();

      // Closed again: the alert resolves. Then the request series and gauges are flushed.
      await ok(await app.request("GET", "/api/admin/alerts", { token: admin.token }), "alerts again");
      await settleAlertDeliveries();
      await seriesWriter().flush();
      await snapshot();
    });

    afterAll(() => {
      redis?.disconnect();
    });

    it("every key written matches exactly one documented pattern, has the documented type, and expires", async () => {
      const rows = await keyTable();
      expect(seen.size).toBeGreaterThan(10);
      for (const [key, { type, pttl }] of seen) {
        const found = matching(rows, key);
        expect(found.map((r) => r.pattern), `${key}: one documented pattern`).toHaveLength(1);
        expect(type, `${key}: the documented type`).toBe(found[0]!.type);
        expect(pttl, `${key}: expires`).toBeGreaterThan(0);
      }
    });

    it("every documented pattern was written", async () => {
      const rows = await keyTable();
      const unseen = rows.filter((r) => ![...seen.keys()].some((key) => r.regex.test(key))).map((r) => r.pattern);
      expect(unseen).toEqual([]);
    });

    it("the values are what the runbook says they are", async () => {
      const day = utcDay(Date.now());
      const lastMinute = Math.floor(Date.now() / MINUTE);
      // The guest's quota today, read the way the runbook reads it; the hit charged nothing.
      expect(await redis.get(`${prefix}quota:guest:${GUEST}:${day}`)).toBe("1");
      expect(await redis.exists(`${prefix}quota:guest:${HIT_GUEST}:${day}`)).toBe(0);
      expect(await redis.get(`${prefix}quota:guest:${PROBE_GUEST}:${day}`)).toBe("1");
      expect(Number(await redis.get(`${prefix}stats:cache:${day}:hits`))).toBeGreaterThanOrEqual(1);
      expect(Number(await redis.get(`${prefix}stats:cache:${day}:misses`))).toBeGreaterThanOrEqual(3);

      // Rate limits: the window is the minute number; one key per limit and caller.
      const limits = [...seen.keys()].filter((k) => k.startsWith("rate-limit:"));
      for (const who of [`generate:ip:${GUEST}`, `generate:ip:${HIT_GUEST}`, `generate:user:${userA.userId}`, `signin:ip:${SIGNIN}`, `api:user:${admin.userId}`]) {
        const key = limits.find((k) => k.startsWith(`rate-limit:${who}:`));
        expect(key, who).toBeDefined();
        const minute = Number(key!.slice(`rate-limit:${who}:`.length));
        expect(minute).toBeGreaterThanOrEqual(firstMinute);
        expect(minute).toBeLessThanOrEqual(lastMinute);
      }

      // The idempotency key's hash is the one the runbook's printf | sha256sum gives.
      const h = createHash("sha256").update(`ip:${PROBE_GUEST}\0${IDEMPOTENCY_KEY}\0`).digest("hex");
      const stored = JSON.parse((await redis.get(`${prefix}idem:${h}`)) ?? "null") as { fingerprint: string; result: { caption: string } } | null;
      expect(stored?.result.caption).toEqual(expect.any(String));
      expect(seen.has(`idem:${h}:lock`)).toBe(true);

      // The breaker's fields, closed again by the probe; no probe left behind, no lease held.
      expect(await redis.hgetall(`${prefix}breaker:openai`)).toMatchObject({ state: "closed", failures: "0" });
      expect(await redis.exists(`${prefix}breaker:openai:probe`)).toBe(0);
      expect(await redis.zcard(`${prefix}gen:inflight`)).toBe(0);

      // The blocklist entry, as JSON under its id.
      const entry = JSON.parse((await redis.hget(`${prefix}blocklist`, blockId)) ?? "null") as Record<string, unknown> | null;
      expect(entry).toMatchObject({ id: blockId, target: BLOCKED, reason: "runbook test" });

      // The alert's state and the claims of both webhooks (fired, then resolved).
      const alertState = JSON.parse((await redis.hget(`${prefix}alerts:state`, "breaker_open")) ?? "null") as { state: string } | null;
      expect(alertState?.state).toBe("ok");
      expect(await redis.exists(`${prefix}alerts:sent:breaker_open:firing:0`)).toBe(1);
      expect([...seen.keys()].some((k) => k.startsWith("alerts:sent:breaker_open:resolved:"))).toBe(true);
      expect(webhookCalls.filter((c) => c.alert === "breaker_open").map((c) => c.state)).toEqual(["firing", "resolved"]);

      // This minute's series: the requests above were counted.
      const minutes = [...seen.keys()].filter((k) => k.startsWith("series:m:"));
      let requests = 0;
      for (const key of minutes) requests += Number((await redis.hget(`${prefix}${key}`, "req")) ?? 0);
      expect(requests).toBeGreaterThanOrEqual(8);
    });
  });
});
