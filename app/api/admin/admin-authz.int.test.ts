/**
 * The admin API's authorization sweep: every route file under app/api/admin, every method it
 * defines, for each kind of caller. Reads: moderator or admin. Writes: admin only; a
 * moderator's write is 403 and changes nothing in the database. Bad credentials (expired,
 * forged, `alg: none`) are 401, whatever the route.
 */
import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, TEST_AUTH_SECRET, testRoutes, type TestApp } from "@/e2e/support/harness/app-harness";
import { LOCAL_TOKEN_ISSUER, signSessionToken } from "@/lib/auth/tokens";
import type { RouteHandler } from "@/lib/http/route";

/** PRODUCT §7's admin API, method and path pattern: each must exist as a route file. */
const CONTRACT = [
  "GET /api/admin/overview",
  "GET /api/admin/alerts",
  "GET /api/admin/funnel",
  "GET /api/admin/funnel.csv",
  "GET /api/admin/security-events",
  "GET /api/admin/security-report",
  "GET /api/admin/blocklist",
  "POST /api/admin/blocklist",
  "DELETE /api/admin/blocklist",
  "GET /api/admin/users",
  "GET /api/admin/users/[id]",
  "PATCH /api/admin/users/[id]",
  "POST /api/admin/users/[id]/credits",
  "GET /api/admin/ledger/reconcile",
  "GET /api/admin/generations",
  "POST /api/admin/generations/sweep",
  "GET /api/admin/database",
  "GET /api/admin/breaker",
  "POST /api/admin/breaker",
  "GET /api/admin/cache",
  "DELETE /api/admin/cache",
  "GET /api/admin/inflight",
  "POST /api/admin/retention",
  "GET /api/admin/audit",
  "GET /api/admin/audit/verify",
  "GET /api/admin/audit.csv",
  "GET /api/admin/wishlist",
  "GET /api/admin/wishlist.csv",
  "GET /api/admin/feedback",
  "GET /api/admin/feedback.csv",
];

const WRITES = new Set(["POST", "PUT", "PATCH", "DELETE"]);

interface Endpoint {
  method: string;
  /** The route's path in Next's notation, e.g. /api/admin/users/[id]. */
  pattern: string;
  url: string;
}

async function adminEndpoints(): Promise<Endpoint[]> {
  const routes = (await testRoutes()).filter((r) => r.file.startsWith("app/api/admin/"));
  return routes.flatMap((r) =>
    Object.entries(r.handlers)
      .filter(([method, handler]) => {
        const name = (handler as RouteHandler).routeName ?? "";
        return method !== "HEAD" && method !== "OPTIONS" && !name.endsWith(".method_not_allowed");
      })
      .map(([method]) => ({ method, pattern: r.path, url: r.path.replace(/\[[^\]]+\]/g, () => randomUUID()) })),
  );
}

async function code(res: Response): Promise<string | undefined> {
  const body = (await res.json().catch(() => null)) as { error?: { code?: string } } | null;
  return body?.error?.code;
}

let app: TestApp;
let endpoints: Endpoint[];
const tokens: Record<string, string | undefined> = {};

/** Every litstatus table's content as one fingerprint per table (row order independent). */
async function databaseFingerprint(): Promise<Record<string, string>> {
  const tables = await app.db.query<{ name: string }>(
    `select table_name as name from information_schema.tables where table_schema = 'litstatus' and table_type = 'BASE TABLE' order by 1`,
  );
  const out: Record<string, string> = {};
  for (const { name } of tables) {
    const [row] = await app.db.query<{ fp: string }>(
      `select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as fp from litstatus.${name} t`,
    );
    out[name] = row?.fp ?? "";
  }
  return out;
}

beforeAll(async () => {
  app = await startTestApp();
  endpoints = await adminEndpoints();
  const user = await app.signUp();
  const moderator = await app.signUp();
  const admin = await app.signUp();
  await app.db.query(`update litstatus.profiles set role = 'moderator' where user_id = $1`, [moderator.userId]);
  await app.db.query(`update litstatus.profiles set role = 'admin' where user_id = $1`, [admin.userId]);
  const now = Math.floor(Date.now() / 1000);
  const secret = new TextEncoder().encode(TEST_AUTH_SECRET);
  tokens.anonymous = undefined;
  tokens.user = user.token;
  tokens.moderator = moderator.token;
  tokens.admin = admin.token;
  tokens.expired = await new SignJWT({ role: "authenticated" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(admin.userId)
    .setAudience("authenticated")
    .setIssuer(LOCAL_TOKEN_ISSUER)
    .setIssuedAt(now - 7200)
    .setExpirationTime(now - 3600)
    .sign(secret);
  tokens.forged = await signSessionToken({ sub: admin.userId, email: null }, "another-secret-of-sufficient-length-0123456789", 3600);
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  tokens.algNone = `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: admin.userId, aud: "authenticated", iss: LOCAL_TOKEN_ISSUER, role: "authenticated", exp: now + 3600 })}.`;
});

afterAll(async () => {
  await app.close();
});

describe("admin API authorization", () => {
  it("has every route of PRODUCT §7", () => {
    const present = new Set(endpoints.map((e) => `${e.method} ${e.pattern}`));
    expect(CONTRACT.filter((entry) => !present.has(entry))).toEqual([]);
  });

  it.each(["anonymous", "expired", "forged", "algNone"])("%s: 401 unauthorized on every admin route and method", async (who) => {
    for (const endpoint of endpoints) {
      const res = await app.request(endpoint.method, endpoint.url, { token: tokens[who], json: WRITES.has(endpoint.method) ? {} : undefined });
      expect({ ...endpoint, status: res.status, code: await code(res) }).toEqual({ ...endpoint, status: 401, code: "unauthorized" });
    }
  });

  it("a signed-in user: 403 forbidden on every admin route and method", async () => {
    for (const endpoint of endpoints) {
      const res = await app.request(endpoint.method, endpoint.url, { token: tokens.user, json: WRITES.has(endpoint.method) ? {} : undefined });
      expect({ ...endpoint, status: res.status, code: await code(res) }).toEqual({ ...endpoint, status: 403, code: "forbidden" });
    }
  });

  it("a moderator reads, and every write is 403 with nothing changed in the database", async () => {
    const before = await databaseFingerprint();
    for (const endpoint of endpoints) {
      const res = await app.request(endpoint.method, endpoint.url, { token: tokens.moderator, json: WRITES.has(endpoint.method) ? {} : undefined });
      if (WRITES.has(endpoint.method)) {
        expect({ ...endpoint, status: res.status, code: await code(res) }).toEqual({ ...endpoint, status: 403, code: "forbidden" });
      } else {
        expect({ ...endpoint, denied: [401, 403].includes(res.status) }).toEqual({ ...endpoint, denied: false });
      }
    }
    await app.flush();
    const after = await databaseFingerprint();
    // Refused writes leave a `forbidden` security event each (the denial is recorded), nothing else.
    const { security_events: _before, ...restBefore } = before;
    const { security_events: _after, ...restAfter } = after;
    expect(restAfter).toEqual(restBefore);
  });

  it("an admin passes the policy of every route (reads and writes)", async () => {
    for (const endpoint of endpoints) {
      const res = await app.request(endpoint.method, endpoint.url, { token: tokens.admin, json: WRITES.has(endpoint.method) ? {} : undefined });
      expect({ ...endpoint, denied: [401, 403].includes(res.status), error: res.status >= 500 }).toEqual({ ...endpoint, denied: false, error: false });
    }
  });
});
