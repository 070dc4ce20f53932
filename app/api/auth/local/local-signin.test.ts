import pino from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { setSignInLinkSink, type SignInLink } from "@/lib/auth/local";
import { setAuthFailureHook } from "@/lib/auth/viewer";
import type { Db } from "@/lib/db";
import { PEER_ADDRESS_HEADER, peerHeaderValue, simulatePeerAddressLayer } from "@/lib/http/peer-address";
import { applyTestEnv as applyTestEnv } from "@/e2e/support/harness/env";
import { openTestDb, type TestDb } from "@/e2e/support/harness/stores-db";
import { POST as logout } from "../logout/route";
import { GET as session } from "../session/route";
import { GET as callback } from "./callback/route";
import { POST as start } from "./start/route";

const ORIGIN = "http://localhost:3000";
const AUTH_SECRET = "local-signin-test-secret-0123456789-abcdefgh";
const noParams = { params: Promise.resolve({}) };

let testDb: TestDb;
let db: Db;
const links: SignInLink[] = [];

function configureEnv(overrides: Record<string, string> = {}) {
  applyTestEnv({ AUTH_SECRET, NODE_ENV: "test", RATE_LIMIT_SIGNIN_PER_MIN: "100000", ...overrides });
  (globalThis as unknown as { __litstatusDb?: Promise<Db> }).__litstatusDb = Promise.resolve(db);
}

function startRequest(body: unknown, headers: Record<string, string> = { origin: ORIGIN }): Request {
  return new Request(`${ORIGIN}/api/auth/local/start`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

async function requestLink(email: string, next?: string): Promise<SignInLink> {
  const res = await start(startRequest({ email, ...(next ? { next } : {}) }), noParams);
  expect(res.status).toBe(200);
  const link = links.at(-1);
  if (!link) throw new Error("no sign-in link was issued");
  return link;
}

/** Follows a link the way a browser would, against the route handler. */
function openLink(link: string): Promise<Response> {
  return callback(new Request(link), noParams);
}

function sessionCookieFrom(res: Response): string {
  const match = /^ls_session=([^;]*)/.exec(res.headers.get("set-cookie") ?? "");
  if (!match?.[1]) throw new Error("no session cookie was set");
  return match[1];
}

async function signIn(email: string): Promise<string> {
  const { link } = await requestLink(email);
  return sessionCookieFrom(await openLink(link));
}

beforeAll(async () => {
  testDb = await openTestDb();
  db = testDb.db;
});

afterAll(async () => {
  setSignInLinkSink(null);
  setAuthFailureHook(null);
  await testDb.cleanup();
});

beforeEach(() => {
  configureEnv();
  links.length = 0;
  setSignInLinkSink((link) => {
    links.push(link);
  });
  setAuthFailureHook(() => {});
});

describe("POST /api/auth/local/start", () => {
  it("issues a one-time link for the normalised email and stores only its hash", async () => {
    const res = await start(startRequest({ email: "  Ada@Example.COM " }), noParams);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    expect(links).toHaveLength(1);
    const { email, link, expiresAt } = links[0] as SignInLink;
    expect(email).toBe("ada@example.com");
    const url = new URL(link);
    expect(`${url.origin}${url.pathname}`).toBe(`${ORIGIN}/api/auth/local/callback`);
    const token = url.searchParams.get("token") ?? "";
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(expiresAt.getTime() - Date.now()).toBeGreaterThan(14 * 60_000);
    expect(expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(15 * 60_000 + 1000);

    const rows = await db.query<{ token_hash: string }>("select token_hash from litstatus.login_tokens where email = $1", [email]);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]?.token_hash).not.toContain(token);
  });

  it("by default prints one info line with the working link to the server log", async () => {
    setSignInLinkSink(null);
    const lines: Record<string, unknown>[] = [];
    (globalThis as Record<string, unknown>).__litstatusLogger = pino(
      { level: "info" },
      { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    );
    expect((await start(startRequest({ email: "log@example.com" }), noParams)).status).toBe(200);
    const logged = lines.filter((l) => l.msg === "local sign-in link");
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 30, email: "log@example.com" });
    const link = String(logged[0]?.link);
    expect(link).toMatch(/^http:\/\/localhost:3000\/api\/auth\/local\/callback\?token=[\w-]{43}$/);
    expect(sessionCookieFrom(await openLink(link))).not.toBe("");
  });

  it("uses APP_URL for the link when configured", async () => {
    configureEnv({ APP_URL: "https://litstatus.example" });
    const { link } = await requestLink("app-url@example.com");
    expect(link.startsWith("https://litstatus.example/api/auth/local/callback?token=")).toBe(true);
  });

  it("answers the same for a known and an unknown email", async () => {
    await signIn("known@example.com");
    const known = await start(startRequest({ email: "known@example.com" }), noParams);
    const unknown = await start(startRequest({ email: "never-seen@example.com" }), noParams);
    expect([known.status, unknown.status]).toEqual([200, 200]);
    expect(await known.json()).toEqual(await unknown.json());
  });

  it("limits sign-in link requests per IP (each may send an email)", async () => {
    configureEnv({ RATE_LIMIT_SIGNIN_PER_MIN: "2" });
    // Each "client" is a TCP peer, stamped the way the server layer does (TRUST_PROXY_HEADER=none).
    simulatePeerAddressLayer();
    const from = (ip: string) => ({ origin: ORIGIN, [PEER_ADDRESS_HEADER]: peerHeaderValue(ip) });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await start(startRequest({ email: `burst${i}@example.com` }, from("203.0.113.7")), noParams)).status);
    expect(statuses).toEqual([200, 200, 429]);
    expect((await start(startRequest({ email: "other@example.com" }, from("203.0.113.8")), noParams)).status).toBe(200);
    configureEnv();
  });

  it("refuses a cross-site request with 403 and issues nothing", async () => {
    const res = await start(startRequest({ email: "victim@example.com" }, { origin: "https://evil.example" }), noParams);
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: "forbidden" } });
    expect(links).toHaveLength(0);
  });

  it.each([
    [{ email: "not-an-email" }],
    [{ email: `${"a".repeat(250)}@example.com` }],
    [{ email: "a@example.com", admin: true }],
    [{}],
  ])("rejects the invalid body %j with 400", async (body) => {
    const res = await start(startRequest(body), noParams);
    expect(res.status).toBe(400);
    expect(links).toHaveLength(0);
  });

  it("answers 404 when Supabase Auth is configured", async () => {
    configureEnv({ SUPABASE_URL: "https://project.supabase.co" });
    const res = await start(startRequest({ email: "a@example.com" }), noParams);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "not_found" } });
    const cb = await openLink(`${ORIGIN}/api/auth/local/callback?token=${"a".repeat(43)}`);
    expect(cb.status).toBe(404);
  });
});

describe("GET /api/auth/local/callback", () => {
  it("signs in: sets an HttpOnly session cookie, redirects home, and the session resolves to the user", async () => {
    const { link } = await requestLink("Grace@Example.com");
    const res = await openLink(link);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/");
    const setCookie = res.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/^ls_session=[\w-]+\.[\w-]+\.[\w-]+; /);
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Lax");
    expect(setCookie).toContain("Path=/");
    expect(setCookie).toContain(`Max-Age=${7 * 86_400}`);
    expect(setCookie).not.toContain("Secure");

    const who = await session(new Request(`${ORIGIN}/api/auth/session`, { headers: { cookie: `ls_session=${sessionCookieFrom(res)}` } }), noParams);
    expect(who.status).toBe(200);
    const body = (await who.json()) as { viewer: Record<string, unknown>; mode: string };
    expect(body.mode).toBe("local");
    expect(body.viewer).toMatchObject({ kind: "user", email: "grace@example.com", plan: "free", role: "user" });
    expect(JSON.stringify(body)).not.toContain(sessionCookieFrom(res));

    const [user] = await db.query<{ id: string }>("select id from auth.users where email = $1", ["grace@example.com"]);
    expect(body.viewer.id).toBe(user?.id);
  });

  it("signs the same email into the same account every time", async () => {
    await signIn("same@example.com");
    await signIn("same@example.com");
    const users = await db.query("select id from auth.users where lower(email) = $1", ["same@example.com"]);
    expect(users).toHaveLength(1);
  });

  it("works once: a second use of the same link is refused without a cookie", async () => {
    const { link } = await requestLink("once@example.com");
    expect((await openLink(link)).status).toBe(303);
    const again = await openLink(link);
    expect(again.status).toBe(303);
    expect(again.headers.get("location")).toBe("/signin?error=link_invalid");
    expect(again.headers.get("set-cookie")).toBeNull();
  });

  it("sends a bad link back to the sign-in page in the language it came from", async () => {
    const res = await openLink("http://localhost/api/auth/local/callback?token=not-a-token&next=%2Fzh%2Faccount");
    expect(res.headers.get("location")).toBe("/zh/signin?error=link_invalid");
  });

  it("refuses an expired link", async () => {
    const { link } = await requestLink("late@example.com");
    await db.query("update litstatus.login_tokens set expires_at = now() - interval '1 second' where email = $1", [
      "late@example.com",
    ]);
    const res = await openLink(link);
    expect(res.headers.get("location")).toBe("/signin?error=link_invalid");
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  it.each([[""], ["?token="], ["?token=short"], [`?token=${"A".repeat(43)}`], ["?token=%27%3B--"]])(
    "refuses an invalid link (%s) with a redirect, not an error",
    async (query) => {
      const res = await openLink(`${ORIGIN}/api/auth/local/callback${query}`);
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe("/signin?error=link_invalid");
    },
  );

  it("lands on a safe `next` path and never on another site", async () => {
    const { link } = await requestLink("next@example.com", "/history?page=2");
    expect(new URL(link).searchParams.get("next")).toBe("/history?page=2");
    expect((await openLink(link)).headers.get("location")).toBe("/history?page=2");

    const { link: second } = await requestLink("next@example.com");
    const hostile = new URL(second);
    hostile.searchParams.set("next", "//evil.example/phish");
    expect((await openLink(hostile.toString())).headers.get("location")).toBe("/");
  });

  it("marks the cookie Secure in production", async () => {
    configureEnv({ NODE_ENV: "production" });
    const { link } = await requestLink("prod@example.com");
    expect((await openLink(link)).headers.get("set-cookie")).toContain("Secure");
  });
});

describe("POST /api/auth/logout and GET /api/auth/session", () => {
  const logoutRequest = (cookie?: string, body?: unknown, origin = ORIGIN) =>
    new Request(`${ORIGIN}/api/auth/logout`, {
      method: "POST",
      headers: {
        origin,
        ...(cookie ? { cookie: `ls_session=${cookie}` } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const sessionWith = (cookie: string) =>
    session(new Request(`${ORIGIN}/api/auth/session`, { headers: { cookie: `ls_session=${cookie}` } }), noParams);

  it("reports a guest without a session", async () => {
    const res = await session(new Request(`${ORIGIN}/api/auth/session`), noParams);
    expect(await res.json()).toEqual({ viewer: { kind: "guest" }, mode: "local" });
  });

  it("clears the cookie on logout (bare POST, no body)", async () => {
    const cookie = await signIn("bye@example.com");
    const res = await logout(logoutRequest(cookie), noParams);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, everywhere: false });
    expect(res.headers.get("set-cookie")).toMatch(/^ls_session=; .*Max-Age=0/);
    // A plain logout does not revoke other sessions: the old token still works elsewhere.
    expect((await sessionWith(cookie)).status).toBe(200);
  });

  it("logs out everywhere: every earlier session stops working and a stale cookie is dropped", async () => {
    const laptop = await signIn("everywhere@example.com");
    const phone = await signIn("everywhere@example.com");
    const res = await logout(logoutRequest(laptop, { everywhere: true }), noParams);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, everywhere: true });

    const stale = await sessionWith(phone);
    expect(stale.status).toBe(401);
    expect(await stale.json()).toMatchObject({ error: { code: "unauthorized" } });
    expect(stale.headers.get("set-cookie")).toMatch(/^ls_session=; .*Max-Age=0/);
  });

  it("refuses log-out-everywhere without a valid session", async () => {
    const res = await logout(logoutRequest(undefined, { everywhere: true }), noParams);
    expect(res.status).toBe(401);
  });

  it("refuses a cross-site logout with 403", async () => {
    const cookie = await signIn("csrf@example.com");
    const res = await logout(logoutRequest(cookie, { everywhere: true }, "https://evil.example"), noParams);
    expect(res.status).toBe(403);
    expect((await sessionWith(cookie)).status).toBe(200);
  });
});
