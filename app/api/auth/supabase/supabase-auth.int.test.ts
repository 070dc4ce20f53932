/**
 * Supabase Auth mode end to end, against a fake Supabase Auth server (no network): magic link
 * and OAuth sign-in with server-side PKCE, HttpOnly session cookies, the session read back by
 * our own verifier, the proxy's refresh of an expired access token, logout (local and global),
 * and the two sign-in modes keeping out of each other's way.
 */
import { NextRequest } from "next/server";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ssrCookieValue, startFakeGoTrue, type FakeGoTrue, type FakeSession } from "@/e2e/support/fake-gotrue";
import { SUPABASE_PROXY_BUDGET_MS } from "@/lib/auth/supabase-client";
import { setAuthFailureHook } from "@/lib/auth/viewer";
import { startTestApp, type TestApp } from "@/e2e/support/harness/app-harness";
import proxy from "@/proxy";
import { envForBlock } from "@/e2e/support/harness/env-block";

const JWT_SECRET = "supabase-int-test-jwt-secret-0123456789-abcdef";
const ORIGIN = "http://litstatus.test";
const SAME_ORIGIN = { origin: ORIGIN };

let fake: FakeGoTrue;
let app: TestApp;
let storageKey: string;

interface ErrorBody {
  error: { code: string; message: string; requestId: string };
}

interface SetCookie {
  name: string;
  value: string;
  attributes: string[];
  maxAge: number | null;
}

function setCookies(res: Response): SetCookie[] {
  return res.headers.getSetCookie().map((line) => {
    const [pair = "", ...attributes] = line.split(";").map((p) => p.trim());
    const eq = pair.indexOf("=");
    const maxAge = attributes.find((a) => a.toLowerCase().startsWith("max-age="));
    return {
      name: pair.slice(0, eq),
      value: decodeURIComponent(pair.slice(eq + 1)),
      attributes: attributes.map((a) => a.toLowerCase()),
      maxAge: maxAge ? Number(maxAge.split("=")[1]) : null,
    };
  });
}

/** One browser's cookies. */
class Browser {
  private readonly cookies = new Map<string, string>();

  take(res: Response): SetCookie[] {
    const set = setCookies(res);
    for (const cookie of set) {
      if (cookie.maxAge === 0 || cookie.value === "") this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
    return set;
  }

  set(name: string, value: string): void {
    this.cookies.set(name, value);
  }

  has(name: string): boolean {
    return this.cookies.has(name);
  }

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join("; ");
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    const cookie = this.header();
    return { ...extra, ...(cookie ? { cookie } : {}) };
  }
}

function expectHardened(cookie: SetCookie | undefined): void {
  expect(cookie).toBeDefined();
  expect(cookie?.attributes).toEqual(expect.arrayContaining(["httponly", "samesite=lax", "path=/"]));
  expect(cookie?.attributes.some((a) => a.startsWith("domain="))).toBe(false);
}

function sessionIn(value: string | undefined): FakeSession {
  expect(value?.startsWith("base64-")).toBe(true);
  return JSON.parse(Buffer.from((value ?? "").slice("base64-".length), "base64url").toString("utf8")) as FakeSession;
}
const accessTokenIn = (value: string | undefined) => sessionIn(value).access_token;
const refreshTokenIn = (value: string | undefined) => sessionIn(value).refresh_token;

async function startSignIn(browser: Browser, email: string, next?: string): Promise<Response> {
  const res = await app.request("POST", "/api/auth/supabase/start", {
    json: { email, ...(next ? { next } : {}) },
    headers: browser.headers(SAME_ORIGIN),
  });
  browser.take(res);
  return res;
}

/** Asks for a magic link, "opens the email" and follows it: a signed-in browser. */
async function signIn(email: string, browser = new Browser()): Promise<Browser> {
  expect((await startSignIn(browser, email)).status).toBe(200);
  const res = await app.request("GET", fake.magicLink(email), { headers: browser.headers() });
  expect(res.status).toBe(303);
  browser.take(res);
  expect(browser.has(storageKey)).toBe(true);
  return browser;
}

async function session(browser: Browser): Promise<Response> {
  return app.request("GET", "/api/auth/session", { headers: browser.headers() });
}

function pageRequest(path: string, browser: Browser): NextRequest {
  return new NextRequest(new URL(path, ORIGIN), { headers: browser.headers({ "accept-language": "en" }) });
}


beforeAll(async () => {
  fake = await startFakeGoTrue({
    jwtSecret: JWT_SECRET,
    // In Supabase the user row exists once GoTrue creates it; the auth.users trigger adds the profile.
    onUserCreated: async (user) => {
      await app.db.query("insert into auth.users (id, email) values ($1, $2) on conflict do nothing", [user.id, user.email]);
    },
  });
  app = await startTestApp({ SUPABASE_URL: fake.url, SUPABASE_ANON_KEY: "anon", SUPABASE_JWT_SECRET: JWT_SECRET });
  storageKey = "sb-127-auth-token";
});

afterAll(async () => {
  setAuthFailureHook(null);
  await app?.close();
  await fake?.close();
});

beforeEach(() => {
  fake.failNext(0, 500);
});

describe("magic link sign-in", () => {
  it("start asks Supabase for an email whose link returns to our callback, keeping the PKCE verifier in an HttpOnly cookie", async () => {
    const browser = new Browser();
    const res = await app.request("POST", "/api/auth/supabase/start", {
      json: { email: "  Ada@Example.COM ", next: "/zh/history" },
      headers: SAME_ORIGIN,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    const request = fake.otpRequests.at(-1);
    expect(request).toMatchObject({ email: "ada@example.com", createUser: true, codeChallengeMethod: "s256", apikey: "anon" });
    expect(request?.codeChallenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(request?.redirectTo).toBe(`${ORIGIN}/api/auth/supabase/callback?next=%2Fzh%2Fhistory`);

    const [verifier] = browser.take(res);
    expect(verifier?.name).toBe(`${storageKey}-code-verifier`);
    expectHardened(verifier);
    expect(verifier?.attributes).not.toContain("secure"); // not production
    expect(res.headers.get("cache-control")).toContain("no-store");
  });

  it("the callback exchanges the code for HttpOnly session cookies; the session route then sees the user", async () => {
    const browser = new Browser();
    await startSignIn(browser, "grace@example.com", "/zh/history");
    const link = fake.magicLink("grace@example.com");
    expect(new URL(link).pathname).toBe("/api/auth/supabase/callback");

    const res = await app.request("GET", link, { headers: browser.headers() });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/zh/history");
    const set = browser.take(res);
    expectHardened(set.find((c) => c.name === storageKey));
    expect(set.find((c) => c.name === `${storageKey}-code-verifier`)?.maxAge).toBe(0);
    expect(fake.tokenGrants).toContain("pkce");

    const me = await session(browser);
    expect(me.status).toBe(200);
    const body = (await me.json()) as { viewer: { kind: string; id: string; email: string }; mode: string };
    const user = fake.users.get("grace@example.com");
    expect(body).toEqual({ mode: "supabase", viewer: { kind: "user", id: user?.id, email: "grace@example.com", plan: "free", role: "user" } });
    const [profile] = await app.db.query<{ email: string }>("select email from litstatus.profiles where user_id = $1", [user?.id ?? ""]);
    expect(profile?.email).toBe("grace@example.com");
  });

  it("a bearer access token from the same session works too (scripts, mobile)", async () => {
    const browser = await signIn("bearer@example.com");
    const token = accessTokenIn(browser.get(storageKey));
    const res = await app.request("GET", "/api/auth/session", { token });
    expect(((await res.json()) as { viewer: { kind: string } }).viewer.kind).toBe("user");
  });

  it.each([
    ["an unknown code", "/api/auth/supabase/callback?code=00000000-0000-0000-0000-000000000000&next=/zh/history", "/zh/signin?error=link_invalid"],
    ["no code", "/api/auth/supabase/callback?next=/history", "/signin?error=link_invalid"],
    ["an error from Supabase", "/api/auth/supabase/callback?error=access_denied&error_code=otp_expired", "/signin?error=link_invalid"],
  ])("%s lands on the sign-in page saying the link is invalid", async (_case, path, location) => {
    const browser = new Browser();
    await startSignIn(browser, "bad-code@example.com");
    const res = await app.request("GET", path, { headers: browser.headers() });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(location);
    const set = browser.take(res);
    expect(set.some((c) => c.name === storageKey)).toBe(false);
    expect(set.find((c) => c.name === `${storageKey}-code-verifier`)?.maxAge).toBe(0);
  });

  it("a link works once, and only in the browser that asked for it", async () => {
    const asker = new Browser();
    await startSignIn(asker, "once@example.com");
    const link = fake.magicLink("once@example.com");

    const elsewhere = await app.request("GET", link, { headers: new Browser().headers() });
    expect(elsewhere.headers.get("location")).toBe("/signin?error=link_invalid");

    const first = await app.request("GET", link, { headers: asker.headers() });
    expect(first.headers.get("location")).toBe("/");
    const again = await app.request("GET", link, { headers: asker.headers() });
    expect(again.headers.get("location")).toBe("/signin?error=link_invalid");
  });

  it("signing in again over an old, expired session spends no refresh and removes the old cookies", async () => {
    const browser = new Browser();
    const old = ssrCookieValue(await fake.issueSession("again@example.com", { accessTokenTtlSeconds: -60 }));
    browser.set(`${storageKey}.0`, old.slice(0, 100));
    browser.set(`${storageKey}.1`, old.slice(100));
    const grants = fake.tokenGrants.length;
    await startSignIn(browser, "again@example.com");
    const res = await app.request("GET", fake.magicLink("again@example.com"), { headers: browser.headers() });
    expect(fake.tokenGrants.slice(grants)).toEqual(["pkce"]);
    const set = browser.take(res);
    expect(set.filter((c) => c.maxAge === 0).map((c) => c.name).sort()).toEqual(
      [`${storageKey}-code-verifier`, `${storageKey}.0`, `${storageKey}.1`].sort(),
    );
    expect(browser.has(storageKey)).toBe(true);
    expect((await session(browser)).status).toBe(200);
  });

  it("refuses a cross-site start with 403 and sends no email", async () => {
    const before = fake.otpRequests.length;
    const res = await app.request("POST", "/api/auth/supabase/start", {
      json: { email: "victim@example.com" },
      headers: { origin: "https://evil.example" },
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as ErrorBody).error.code).toBe("forbidden");
    expect(fake.otpRequests.length).toBe(before);
  });

  it("rejects an invalid body with 400", async () => {
    const res = await app.request("POST", "/api/auth/supabase/start", { json: { email: "nope" }, headers: SAME_ORIGIN });
    expect(res.status).toBe(400);
  });

  it("maps Supabase's email limit to 429 and an outage to 503, in the envelope", async () => {
    fake.failNext(1, 429);
    const limited = await app.request("POST", "/api/auth/supabase/start", { json: { email: "a@example.com" }, headers: SAME_ORIGIN });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("60");
    expect(((await limited.json()) as ErrorBody).error.code).toBe("rate_limited");
    expect(limited.headers.getSetCookie()).toEqual([]);

    fake.failNext(1, 503);
    const down = await app.request("POST", "/api/auth/supabase/start", { json: { email: "a@example.com" }, headers: SAME_ORIGIN });
    expect(down.status).toBe(503);
    expect(((await down.json()) as ErrorBody).error).toMatchObject({ code: "upstream_unavailable", requestId: expect.any(String) });
  });
});

describe("OAuth sign-in", () => {
  it("sends the browser to the provider through Supabase and back to a session", async () => {
    const browser = new Browser();
    const res = await app.request("GET", "/api/auth/supabase/oauth?provider=github&next=/history", { headers: browser.headers() });
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get("location") ?? "");
    expect(`${location.origin}${location.pathname}`).toBe(`${fake.url}/auth/v1/authorize`);
    expect(location.searchParams.get("provider")).toBe("github");
    expect(location.searchParams.get("redirect_to")).toBe(`${ORIGIN}/api/auth/supabase/callback?next=%2Fhistory`);
    expect(location.searchParams.get("code_challenge_method")).toBe("s256");
    expectHardened(browser.take(res).find((c) => c.name === `${storageKey}-code-verifier`));

    // The provider and Supabase's own callback, as the fake plays them: straight back with a code.
    const provider = await fetch(location, { redirect: "manual" });
    expect(provider.status).toBe(303);
    const callback = await app.request("GET", provider.headers.get("location") ?? "", { headers: browser.headers() });
    expect(callback.headers.get("location")).toBe("/history");
    browser.take(callback);

    const body = (await (await session(browser)).json()) as { viewer: { kind: string; email: string } };
    expect(body.viewer).toMatchObject({ kind: "user", email: "oauth-user@example.test" });
  });

  it("refuses an unknown provider with 400 and sets nothing", async () => {
    const res = await app.request("GET", "/api/auth/supabase/oauth?provider=myspace");
    expect(res.status).toBe(400);
    expect(res.headers.getSetCookie()).toEqual([]);
  });
});

describe("session refresh in the proxy", () => {
  async function browserWith(sessionValue: FakeSession): Promise<Browser> {
    const browser = new Browser();
    browser.set(storageKey, ssrCookieValue(sessionValue));
    return browser;
  }

  it("refreshes an expired access token with the refresh token: new HttpOnly cookies, for this render too", async () => {
    const stale = await fake.issueSession("refresh@example.com", { accessTokenTtlSeconds: -60 });
    const browser = await browserWith(stale);
    // Without the proxy, an API call with the expired token is refused, and the cookie (its refresh token) kept.
    const before = await session(browser);
    expect(before.status).toBe(401);
    expect(before.headers.getSetCookie().some((c) => c.startsWith(storageKey))).toBe(false);

    const grants = fake.tokenGrants.length;
    const res = await proxy(pageRequest("/en/account", browser));
    expect(fake.tokenGrants.slice(grants)).toEqual(["refresh_token"]);
    expect(fake.refreshTokenActive(stale.refresh_token)).toBe(false);
    const refreshed = browser.take(res).find((c) => c.name === storageKey);
    expectHardened(refreshed);
    expect(accessTokenIn(refreshed?.value)).not.toBe(stale.access_token);
    // The page rendered behind the proxy gets the rotated cookie on its request.
    expect(res.headers.get("x-middleware-request-cookie")).toContain(`${storageKey}=`);
    expect(res.headers.get("x-middleware-request-cookie")).not.toContain(ssrCookieValue(stale));
    // The page headers are intact.
    expect(res.headers.get("content-security-policy")).toMatch(/script-src 'self' 'nonce-[^']+'/);

    const after = await session(browser);
    expect(after.status).toBe(200);
    expect(((await after.json()) as { viewer: { email: string } }).viewer.email).toBe("refresh@example.com");
  });

  it("leaves a fresh session alone: no Auth call, no cookie", async () => {
    const browser = await browserWith(await fake.issueSession("fresh@example.com"));
    const grants = fake.tokenGrants.length;
    const res = await proxy(pageRequest("/en", browser));
    expect(fake.tokenGrants.length).toBe(grants);
    expect(res.headers.getSetCookie().some((c) => c.startsWith("sb-"))).toBe(false);
  });

  it("drops the cookies of a session whose refresh token was revoked", async () => {
    const stale = await fake.issueSession("revoked@example.com", { accessTokenTtlSeconds: -60 });
    const browser = await browserWith(stale);
    const token = (await fake.issueSession("revoked@example.com")).access_token;
    await fetch(`${fake.url}/auth/v1/logout?scope=global`, { method: "POST", headers: { apikey: "anon", authorization: `Bearer ${token}` } });
    const res = await proxy(pageRequest("/en", browser));
    expect(setCookies(res).find((c) => c.name === storageKey)?.maxAge).toBe(0);
  });

  it("renders anyway when Supabase Auth is down", async () => {
    const browser = await browserWith(await fake.issueSession("down@example.com", { accessTokenTtlSeconds: -60 }));
    fake.failNext(100, 503);
    const started = Date.now();
    const res = await proxy(pageRequest("/en", browser));
    // auth-js would retry for up to 30 s; the proxy's budget ends that.
    expect(Date.now() - started).toBeLessThan(SUPABASE_PROXY_BUDGET_MS + 1000);
    expect(res.headers.get("content-security-policy")).toBeTruthy();
    expect(res.headers.getSetCookie().some((c) => c.startsWith(storageKey))).toBe(false);
  });

  describe("in local mode", () => {
    envForBlock({ SUPABASE_URL: undefined, SUPABASE_ANON_KEY: undefined, SUPABASE_JWT_SECRET: undefined });

    it("does nothing with a Supabase cookie: no Auth call, no cookie", async () => {
      const browser = await browserWith(await fake.issueSession("local@example.com", { accessTokenTtlSeconds: -60 }));
      const grants = fake.tokenGrants.length;
      const res = await proxy(pageRequest("/en", browser));
      expect(fake.tokenGrants.length).toBe(grants);
      expect(res.headers.getSetCookie().some((c) => c.startsWith("sb-"))).toBe(false);
      expect(res.headers.get("content-security-policy")).toBeTruthy();
    });
  });
});

describe("logout", () => {
  it("signs this session out at Supabase (scope local) and clears every session cookie", async () => {
    const browser = await signIn("bye@example.com");
    const refreshToken = refreshTokenIn(browser.get(storageKey));
    const res = await app.request("POST", "/api/auth/logout", { headers: browser.headers(SAME_ORIGIN) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, everywhere: false });
    expect(fake.logouts.at(-1)).toMatchObject({ scope: "local", userId: fake.users.get("bye@example.com")?.id });
    const set = browser.take(res);
    expect(set.find((c) => c.name === storageKey)?.maxAge).toBe(0);
    expect(set.find((c) => c.name === "ls_session")?.maxAge).toBe(0);
    expect(browser.has(storageKey)).toBe(false);
    expect(fake.refreshTokenActive(refreshToken)).toBe(false);
    expect(((await (await session(browser)).json()) as { viewer: { kind: string } }).viewer.kind).toBe("guest");
  });

  it("everywhere: Supabase revokes every session (scope global) and older tokens stop working here", async () => {
    const laptop = await signIn("everywhere@example.com");
    const phone = await signIn("everywhere@example.com");
    const res = await app.request("POST", "/api/auth/logout", { json: { everywhere: true }, headers: laptop.headers(SAME_ORIGIN) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, everywhere: true });
    expect(fake.logouts.at(-1)).toMatchObject({ scope: "global", userId: fake.users.get("everywhere@example.com")?.id });
    expect(laptop.take(res).find((c) => c.name === storageKey)?.maxAge).toBe(0);

    // The other browser's access token is refused here at once, and Supabase will not refresh it.
    expect((await session(phone)).status).toBe(401);
    expect(fake.refreshTokenActive(refreshTokenIn(phone.get(storageKey)))).toBe(false);
  });

  it("everywhere with an expired access token: refreshed first, then signed out globally", async () => {
    const stale = await fake.issueSession("stale-logout@example.com", { accessTokenTtlSeconds: -60 });
    const browser = new Browser();
    browser.set(storageKey, ssrCookieValue(stale));
    const res = await app.request("POST", "/api/auth/logout", { json: { everywhere: true }, headers: browser.headers(SAME_ORIGIN) });
    expect(res.status).toBe(200);
    expect(fake.logouts.at(-1)).toMatchObject({ scope: "global", userId: fake.users.get("stale-logout@example.com")?.id });
    expect(browser.take(res).find((c) => c.name === storageKey)?.maxAge).toBe(0);
  });

  it("everywhere with a bearer token only (no cookies) signs that account out globally", async () => {
    const { access_token } = await fake.issueSession("script@example.com");
    const res = await app.request("POST", "/api/auth/logout", { json: { everywhere: true }, token: access_token, headers: SAME_ORIGIN });
    expect(res.status).toBe(200);
    expect(fake.logouts.at(-1)).toMatchObject({ scope: "global", userId: fake.users.get("script@example.com")?.id });
  });

  it("everywhere does not claim success while Supabase is down, but still clears this browser", async () => {
    const browser = await signIn("outage@example.com");
    fake.failNext(3, 503);
    const res = await app.request("POST", "/api/auth/logout", { json: { everywhere: true }, headers: browser.headers(SAME_ORIGIN) });
    expect(res.status).toBe(503);
    expect(((await res.json()) as ErrorBody).error.code).toBe("upstream_unavailable");
    expect(browser.take(res).find((c) => c.name === storageKey)?.maxAge).toBe(0);
  });
});

describe("sign-in modes keep apart", () => {
  it("the local sign-in answers 404 in Supabase mode", async () => {
    const start = await app.request("POST", "/api/auth/local/start", { json: { email: "a@example.com" }, headers: SAME_ORIGIN });
    expect(start.status).toBe(404);
    expect(((await start.json()) as ErrorBody).error.code).toBe("not_found");
    const callback = await app.request("GET", "/api/auth/local/callback?token=x");
    expect(callback.status).toBe(404);
  });

  describe("in local mode", () => {
    envForBlock({ SUPABASE_URL: undefined, SUPABASE_ANON_KEY: undefined, SUPABASE_JWT_SECRET: undefined });

    it.each([
      ["POST", "/api/auth/supabase/start"],
      ["GET", "/api/auth/supabase/oauth?provider=google"],
      ["GET", "/api/auth/supabase/callback?code=abc"],
    ])("%s %s answers 404 and never calls Supabase", async (method, path) => {
      const calls = fake.otpRequests.length + fake.authorizeRequests.length + fake.tokenGrants.length;
      const res = await app.request(method, path, method === "POST" ? { json: { email: "a@example.com" }, headers: SAME_ORIGIN } : {});
      expect(res.status).toBe(404);
      expect(((await res.json()) as ErrorBody).error.code).toBe("not_found");
      expect(fake.otpRequests.length + fake.authorizeRequests.length + fake.tokenGrants.length).toBe(calls);
    });

    it("ignores a Supabase cookie: the viewer is a guest", async () => {
      const browser = new Browser();
      browser.set(storageKey, ssrCookieValue(await fake.issueSession("ignored@example.com")));
      const body = (await (await session(browser)).json()) as { viewer: { kind: string }; mode: string };
      expect(body).toEqual({ viewer: { kind: "guest" }, mode: "local" });
    });
  });

  describe("with only SUPABASE_JWT_SECRET (bearer tokens, no sign-in)", () => {
    envForBlock({ SUPABASE_URL: undefined, SUPABASE_ANON_KEY: undefined });

    it("the Supabase sign-in routes answer 404", async () => {
      const res = await app.request("GET", "/api/auth/supabase/oauth?provider=google");
      expect(res.status).toBe(404);
    });
  });
});
