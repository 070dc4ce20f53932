/**
 * The route policy of every API route, as a table, checked two ways: the policy each route file
 * declares must equal its row here (so a change to who may call a route shows up in review), and
 * the policy must hold on the wire — anonymous, signed in, cross-site, over the burst limit, from
 * a blocked address, and with every method a route does not define.
 */
import { randomUUID } from "node:crypto";
import { readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, testRoutes, type TestApp } from "@/e2e/support/harness/app-harness";
import { HTTP_METHODS, json, route, type RouteHandler, type RoutePolicy } from "@/lib/http/route";
import { blockAddress } from "@/lib/security/blocklist";

type Row = Pick<RoutePolicy, "auth" | "sameOrigin" | "limit"> & { invalidSession?: "guest" };

/** One row per route and method: the contract (docs/API.md "Route policy" shows the same table). */
const POLICY: Record<string, { path: string; methods: Record<string, Row> }> = {
  "app/api/generate/route.ts": { path: "/api/generate", methods: { POST: { auth: "guest", sameOrigin: true, limit: "generate" } } },
  "app/api/quota/route.ts": { path: "/api/quota", methods: { GET: { auth: "guest", sameOrigin: false, limit: "api" } } },
  "app/api/generations/route.ts": {
    path: "/api/generations",
    methods: { GET: { auth: "user", sameOrigin: false, limit: "api" }, DELETE: { auth: "user", sameOrigin: true, limit: "api" } },
  },
  "app/api/generations/[id]/route.ts": {
    path: `/api/generations/${randomUUID()}`,
    methods: { GET: { auth: "user", sameOrigin: false, limit: "api" }, DELETE: { auth: "user", sameOrigin: true, limit: "api" } },
  },
  "app/api/generations/[id]/favorite/route.ts": {
    path: `/api/generations/${randomUUID()}/favorite`,
    methods: { POST: { auth: "user", sameOrigin: true, limit: "api" }, DELETE: { auth: "user", sameOrigin: true, limit: "api" } },
  },
  "app/api/health/route.ts": { path: "/api/health", methods: { GET: { auth: "anyone", sameOrigin: false, limit: null } } },
  "app/api/health/ready/route.ts": { path: "/api/health/ready", methods: { GET: { auth: "anyone", sameOrigin: false, limit: null } } },
  "app/api/metrics/route.ts": { path: "/api/metrics", methods: { GET: { auth: "anyone", sameOrigin: false, limit: null } } },
  "app/api/me/route.ts": {
    path: "/api/me",
    methods: { GET: { auth: "user", sameOrigin: false, limit: "api" }, DELETE: { auth: "user", sameOrigin: true, limit: "api" } },
  },
  "app/api/wishlist/route.ts": { path: "/api/wishlist", methods: { POST: { auth: "guest", sameOrigin: true, limit: "api" } } },
  "app/api/feedback/route.ts": { path: "/api/feedback", methods: { POST: { auth: "guest", sameOrigin: true, limit: "api" } } },
  "app/api/events/route.ts": {
    path: "/api/events",
    methods: { POST: { auth: "guest", invalidSession: "guest", sameOrigin: true, limit: "api" } },
  },
  "app/api/csp-report/route.ts": {
    path: "/api/csp-report",
    methods: { POST: { auth: "guest", invalidSession: "guest", sameOrigin: false, limit: "api" } },
  },
  "app/api/auth/session/route.ts": { path: "/api/auth/session", methods: { GET: { auth: "anyone", sameOrigin: false, limit: "api" } } },
  "app/api/auth/logout/route.ts": { path: "/api/auth/logout", methods: { POST: { auth: "anyone", sameOrigin: true, limit: "api" } } },
  "app/api/auth/local/start/route.ts": {
    path: "/api/auth/local/start",
    methods: { POST: { auth: "anyone", sameOrigin: true, limit: "signin" } },
  },
  "app/api/auth/local/callback/route.ts": {
    path: "/api/auth/local/callback",
    methods: { GET: { auth: "anyone", sameOrigin: false, limit: "api" } },
  },
  "app/api/auth/supabase/start/route.ts": {
    path: "/api/auth/supabase/start",
    methods: { POST: { auth: "anyone", sameOrigin: true, limit: "signin" } },
  },
  "app/api/auth/supabase/oauth/route.ts": {
    path: "/api/auth/supabase/oauth",
    methods: { GET: { auth: "anyone", sameOrigin: false, limit: "api" } },
  },
  "app/api/auth/supabase/callback/route.ts": {
    path: "/api/auth/supabase/callback",
    methods: { GET: { auth: "anyone", sameOrigin: false, limit: "api" } },
  },
  "app/api/cron/retention/route.ts": { path: "/api/cron/retention", methods: { POST: { auth: "anyone", sameOrigin: false, limit: "api" } } },
  /** Any other /api path: 404 in the envelope for every method (it defines none of its own). */
  "app/api/[...path]/route.ts": { path: "/api/no/such/route", methods: {} },
};

const CROSS_SITE = { origin: "https://evil.example", "sec-fetch-site": "cross-site" };

function routeFilesOnDisk(dir = path.join(process.cwd(), "app/api")): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return routeFilesOnDisk(full);
    return entry.name === "route.ts" ? [path.relative(process.cwd(), full)] : [];
  });
}

/** The admin API has its own sweep (app/api/admin/admin-authz.int.test.ts). */
const isAdminRoute = (file: string) => file.startsWith("app/api/admin/");

const rows = Object.entries(POLICY).flatMap(([file, { path: url, methods }]) =>
  Object.entries(methods).map(([method, row]) => ({ file, url, method, row })),
);

async function errorCode(res: Response): Promise<string | undefined> {
  const body = (await res.json().catch(() => null)) as { error?: { code?: string } } | null;
  return body?.error?.code;
}

let ipCounter = 0;
const freshIp = () => `198.51.100.${(ipCounter += 1)}`;

describe("route policy table", () => {
  it("lists every route file on disk, and the harness serves each of them", async () => {
    expect(routeFilesOnDisk().filter((f) => !isAdminRoute(f)).sort()).toEqual(Object.keys(POLICY).sort());
    expect((await testRoutes()).map((r) => r.file).filter((f) => !isAdminRoute(f)).sort()).toEqual(Object.keys(POLICY).sort());
  });

  it("matches what each route file declares, method by method", async () => {
    for (const { file, handlers: module } of (await testRoutes()).filter((r) => !isAdminRoute(r.file))) {
      const declared: Record<string, Row> = {};
      for (const method of HTTP_METHODS) {
        const handler = module[method] as RouteHandler | undefined;
        if (!handler || method === "HEAD" || method === "OPTIONS") continue;
        if (handler.routeName.endsWith(".method_not_allowed") || handler.routeName === "api.not_found") continue;
        const { auth, sameOrigin, limit, invalidSession } = handler.policy;
        declared[method] = { auth, sameOrigin, limit, ...(invalidSession === "guest" ? { invalidSession } : {}) };
      }
      expect({ file, declared }).toEqual({ file, declared: POLICY[file]!.methods });
    }
  });
});

describe("route policy on the wire", () => {
  let app: TestApp;
  let user: { userId: string; token: string };
  let moderator: { userId: string; token: string };

  beforeAll(async () => {
    // Limits of 1 per minute: the second request of a caller shows whether the route is limited.
    app = await startTestApp({ RATE_LIMIT_GENERATE_PER_MIN: "1", RATE_LIMIT_API_PER_MIN: "1", RATE_LIMIT_SIGNIN_PER_MIN: "1" });
    user = await app.signUp();
    moderator = await app.signUp();
    await app.db.query(`update litstatus.profiles set role = 'moderator' where user_id = $1`, [moderator.userId]);
  });
  afterAll(async () => {
    await app.close();
  });

  it.each(rows)("$method $url: anonymous gets 401 exactly when the route needs a user", async ({ url, method, row }) => {
    const res = await app.request(method, url, { ip: freshIp() });
    if (row.auth === "user") {
      expect(res.status).toBe(401);
      expect(await errorCode(res)).toBe("unauthorized");
    } else {
      expect(res.status).not.toBe(401);
    }
  });

  it.each(rows.filter((r) => r.row.auth === "user"))("$method $url: a signed-in user gets past the policy", async ({ url, method }) => {
    const { token } = await app.signUp();
    const res = await app.request(method, url, { ip: freshIp(), token });
    expect([401, 403, 405, 429]).not.toContain(res.status);
  });

  it.each(rows)("$method $url: a cross-site browser request gets 403 exactly on same-origin routes", async ({ url, method, row }) => {
    const { token } = await app.signUp();
    const res = await app.request(method, url, { ip: freshIp(), token, headers: CROSS_SITE });
    if (row.sameOrigin) {
      expect(res.status).toBe(403);
      expect(await errorCode(res)).toBe("forbidden");
    } else {
      expect(res.status).not.toBe(403);
    }
  });

  it.each(rows)("$method $url: the second request within a minute is 429 exactly on limited routes", async ({ url, method, row }) => {
    const { token } = await app.signUp();
    const options = { ip: freshIp(), ...(row.auth === "user" ? { token } : {}) };
    await app.request(method, url, options);
    const second = await app.request(method, url, options);
    if (row.limit === null) {
      expect(second.status).not.toBe(429);
    } else {
      expect(second.status).toBe(429);
      expect(await errorCode(second)).toBe("rate_limited");
      expect(Number(second.headers.get("retry-after"))).toBeGreaterThan(0);
    }
  });

  it("a blocked address gets 403 ip_blocked on every route and method", async () => {
    const ip = freshIp();
    await blockAddress({ target: ip, reason: "route policy test", ttlSeconds: 60 });
    for (const { path: url } of Object.values(POLICY)) {
      for (const method of HTTP_METHODS) {
        const res = await app.request(method, url, { ip, token: user.token });
        expect({ method, url, status: res.status }).toEqual({ method, url, status: 403 });
        if (method !== "HEAD") expect(await errorCode(res)).toBe("ip_blocked");
      }
    }
  });

  it("every method a route does not define is 405 in the envelope with Allow; OPTIONS is 204", async () => {
    for (const [file, { path: url, methods }] of Object.entries(POLICY)) {
      if (file.includes("[...path]")) continue;
      const defined = Object.keys(methods);
      const allow = HTTP_METHODS.filter((m) => m === "OPTIONS" || (m === "HEAD" ? defined.includes("GET") : defined.includes(m))).join(", ");
      for (const method of HTTP_METHODS.filter((m) => m !== "OPTIONS" && m !== "HEAD" && !defined.includes(m))) {
        const res = await app.request(method, url, { ip: freshIp() });
        expect({ url, method, status: res.status, allow: res.headers.get("allow") }).toEqual({ url, method, status: 405, allow });
        expect(await errorCode(res)).toBe("method_not_allowed");
      }
      const options = await app.request("OPTIONS", url, { ip: freshIp() });
      expect({ url, status: options.status, allow: options.headers.get("allow") }).toEqual({ url, status: 204, allow });
    }
  });

  it("any other /api path is 404 not_found for every method", async () => {
    for (const method of HTTP_METHODS) {
      const res = await app.request(method, "/api/no/such/route", { ip: freshIp() });
      expect({ method, status: res.status }).toEqual({ method, status: 404 });
      if (method !== "HEAD") expect(await errorCode(res)).toBe("not_found");
    }
  });

  it("roles rank: user < moderator < admin; a too-low role is 403 forbidden and recorded", async () => {
    const admin = await app.signUp();
    await app.db.query(`update litstatus.profiles set role = 'admin' where user_id = $1`, [admin.userId]);
    const forModerators = route("t.moderator", { auth: "moderator", sameOrigin: false, limit: null }, async ({ viewer }) => json({ role: viewer.role }));
    const forAdmins = route("t.admin", { auth: "admin", sameOrigin: false, limit: null }, async ({ viewer }) => json({ role: viewer.role }));
    const call = async (handler: RouteHandler, token?: string) => {
      const headers = new Headers(token ? { authorization: `Bearer ${token}` } : {});
      const res = await handler(new Request("http://litstatus.test/api/admin/t", { headers }));
      return `${res.status} ${(await errorCode(res.clone())) ?? ((await res.json()) as { role: string }).role}`;
    };
    expect(await call(forModerators)).toBe("401 unauthorized");
    expect(await call(forModerators, user.token)).toBe("403 forbidden");
    expect(await call(forModerators, moderator.token)).toBe("200 moderator");
    expect(await call(forModerators, admin.token)).toBe("200 admin");
    expect(await call(forAdmins, user.token)).toBe("403 forbidden");
    expect(await call(forAdmins, moderator.token)).toBe("403 forbidden");
    expect(await call(forAdmins, admin.token)).toBe("200 admin");
    await app.flush();
    const [row] = await app.db.query<{ n: number }>(
      `select count(*)::int as n from litstatus.security_events where event_type = 'forbidden' and user_id = $1`,
      [moderator.userId],
    );
    expect(row?.n).toBe(1);
    expect((await app.request("GET", "/api/me", { ip: freshIp(), token: moderator.token })).status).toBe(200);
  });
});
