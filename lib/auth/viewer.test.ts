import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import pino from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { Db } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { applyTestEnv as applyTestEnv } from "@/e2e/support/harness/env";
import { openTestDb, type TestDb } from "@/e2e/support/harness/stores-db";
import { LOCAL_TOKEN_ISSUER, signSessionToken } from "./tokens";
import { getViewer, revokeAllSessions, setAuthFailureHook, type AuthFailure } from "./viewer";

const AUTH_SECRET = "viewer-test-secret-0123456789-abcdefghijklmnop";
const SUPABASE_SECRET = "supabase-jwt-secret-0123456789-abcdefghijklmn";

let testDb: TestDb;
let db: Db;
const failures: AuthFailure[] = [];
const hook = vi.fn((failure: AuthFailure) => {
  failures.push(failure);
});

function configureEnv(overrides: Record<string, string> = {}) {
  applyTestEnv({ AUTH_SECRET, ADMIN_EMAILS: " Boss@Example.com , other@example.com", NODE_ENV: "test", ...overrides });
  (globalThis as unknown as { __litstatusDb?: Promise<Db> }).__litstatusDb = Promise.resolve(db);
}

function requestWith(headers: Record<string, string> = {}, path = "/api/thing"): Request {
  return new Request(`http://localhost:3000${path}`, { headers });
}

const bearer = (token: string) => requestWith({ authorization: `Bearer ${token}` });

async function createAuthUser(email: string | null): Promise<string> {
  const id = randomUUID();
  await db.query("insert into auth.users (id, email) values ($1, $2)", [id, email]);
  return id;
}

async function tokenFor(id: string, email: string | null): Promise<string> {
  return signSessionToken({ sub: id, email }, AUTH_SECRET, 3600);
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => new Error("expected getViewer to reject"),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

beforeAll(async () => {
  testDb = await openTestDb();
  db = testDb.db;
});

afterAll(async () => {
  setAuthFailureHook(null);
  await testDb.cleanup();
});

beforeEach(() => {
  configureEnv();
  failures.length = 0;
  hook.mockClear();
  setAuthFailureHook(hook);
});

describe("getViewer", () => {
  it("is a guest without a token (a non-bearer Authorization header is not a token)", async () => {
    await expect(getViewer(requestWith())).resolves.toEqual({ kind: "guest" });
    await expect(getViewer(requestWith({ authorization: "Basic dXNlcjpwYXNz" }))).resolves.toEqual({ kind: "guest" });
    await expect(getViewer(requestWith({ cookie: "other=1; ls_session=" }))).resolves.toEqual({ kind: "guest" });
    expect(hook).not.toHaveBeenCalled();
  });

  it("resolves a user whose profile the auth.users trigger created, on the free plan", async () => {
    const id = await createAuthUser("Ada@Example.com");
    const [profile] = await db.query<{ plan: string; role: string; email: string }>(
      "select plan, role, email from litstatus.profiles where user_id = $1",
      [id],
    );
    expect(profile).toEqual({ plan: "free", role: "user", email: "ada@example.com" });
    await expect(getViewer(bearer(await tokenFor(id, "ada@example.com")))).resolves.toEqual({
      kind: "user",
      id,
      email: "ada@example.com",
      plan: "free",
      role: "user",
    });
  });

  it("accepts the session cookie, and prefers a bearer token over it", async () => {
    const a = await createAuthUser("cookie-a@example.com");
    const b = await createAuthUser("cookie-b@example.com");
    const viaCookie = await getViewer(requestWith({ cookie: `theme=dark; ls_session=${await tokenFor(a, "cookie-a@example.com")}` }));
    expect(viaCookie).toMatchObject({ kind: "user", id: a });
    const both = await getViewer(
      requestWith({
        cookie: `ls_session=${await tokenFor(a, "cookie-a@example.com")}`,
        authorization: `Bearer ${await tokenFor(b, "cookie-b@example.com")}`,
      }),
    );
    expect(both).toMatchObject({ kind: "user", id: b });
  });

  it("creates a missing profile for an existing auth user (a user from before the trigger)", async () => {
    const id = randomUUID();
    await db.query("alter table auth.users disable trigger user");
    try {
      await db.query("insert into auth.users (id, email) values ($1, $2)", [id, "old@example.com"]);
    } finally {
      await db.query("alter table auth.users enable trigger user");
    }
    const viewer = await getViewer(bearer(await tokenFor(id, "Old@Example.com")));
    expect(viewer).toEqual({ kind: "user", id, email: "old@example.com", plan: "free", role: "user" });
  });

  it("rejects a valid token whose user no longer exists (a deleted account stays deleted)", async () => {
    const id = randomUUID();
    await expect(getViewer(bearer(await tokenFor(id, "gone@example.com")))).rejects.toMatchObject({ code: "unauthorized" });
    expect(await db.query("select 1 from auth.users where id = $1", [id])).toHaveLength(0);
  });

  it("keeps stored plan and role, and makes ADMIN_EMAILS admins whatever is stored (case-insensitive)", async () => {
    const pro = await createAuthUser("pro@example.com");
    await db.query("update litstatus.profiles set plan = 'pro', role = 'moderator' where user_id = $1", [pro]);
    await expect(getViewer(bearer(await tokenFor(pro, "pro@example.com")))).resolves.toMatchObject({
      plan: "pro",
      role: "moderator",
    });

    const boss = await createAuthUser("boss@example.com");
    await expect(getViewer(bearer(await tokenFor(boss, "BOSS@example.COM")))).resolves.toMatchObject({
      email: "boss@example.com",
      role: "admin",
    });
    const [stored] = await db.query<{ role: string }>("select role from litstatus.profiles where user_id = $1", [boss]);
    expect(stored?.role).toBe("user");

    configureEnv({ ADMIN_EMAILS: "" });
    await expect(getViewer(bearer(await tokenFor(boss, "boss@example.com")))).resolves.toMatchObject({ role: "user" });
  });

  it("rejects a session issued before a log-out-everywhere, and accepts one issued after", async () => {
    const id = await createAuthUser("revoked@example.com");
    const before = await tokenFor(id, "revoked@example.com");
    await expect(getViewer(bearer(before))).resolves.toMatchObject({ kind: "user" });
    await revokeAllSessions(id);

    const error = await rejection(getViewer(bearer(before)));
    expect(error.code).toBe("unauthorized");
    expect(error.status).toBe(401);
    expect(failures).toEqual([{ reason: "revoked", path: "/api/thing" }]);

    const iat = Math.floor(Date.now() / 1000) + 2;
    const after = await new SignJWT({ email: "revoked@example.com" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(id)
      .setAudience("authenticated")
      .setIssuer(LOCAL_TOKEN_ISSUER)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 600)
      .sign(new TextEncoder().encode(AUTH_SECRET));
    await expect(getViewer(bearer(after))).resolves.toMatchObject({ kind: "user", id });
  });

  it("refuses a disabled account with 403 account_disabled (even with a revoked token), and accepts it again once enabled", async () => {
    const id = await createAuthUser("disabled@example.com");
    const token = await tokenFor(id, "disabled@example.com");
    await db.query("update litstatus.profiles set disabled_at = now(), sessions_revoked_at = now() + interval '1 second' where user_id = $1", [id]);
    const error = await rejection(getViewer(bearer(token)));
    expect(error.code).toBe("account_disabled");
    expect(error.status).toBe(403);
    // Not a token problem: nothing is reported as an auth failure.
    expect(hook).not.toHaveBeenCalled();
    await db.query("update litstatus.profiles set disabled_at = null, sessions_revoked_at = null where user_id = $1", [id]);
    await expect(getViewer(bearer(token))).resolves.toMatchObject({ kind: "user", id });
  });

  it("throws unauthorized for a bad token and reports the reason, client IP and path", async () => {
    const id = await createAuthUser("forged@example.com");
    const forged = await signSessionToken({ sub: id, email: "forged@example.com" }, "a-different-secret-of-sufficient-length!!", 3600);
    // The client address is the one the route wrapper resolved (lib/http/client-ip), never a header read here.
    const req = new Request("http://localhost:3000/api/generate", {
      headers: { authorization: `Bearer ${forged}`, "x-forwarded-for": "6.6.6.6" },
    });
    const error = await rejection(getViewer(req, { ip: "203.0.113.7" }));
    expect(error.code).toBe("unauthorized");
    expect(hook).toHaveBeenCalledTimes(1);
    expect(failures[0]).toEqual({ reason: "bad_signature", ip: "203.0.113.7", path: "/api/generate" });

    await rejection(getViewer(requestWith({ authorization: "Bearer " })));
    await rejection(getViewer(requestWith({ cookie: "ls_session=not-a-jwt" })));
    expect(failures.slice(1).map((f) => f.reason)).toEqual(["malformed", "malformed"]);
  });

  it("reports no IP when the caller resolved none", async () => {
    await rejection(getViewer(requestWith({ authorization: "Bearer x.y.z", "x-forwarded-for": "6.6.6.6" })));
    expect(failures[0]).toEqual({ reason: "malformed", path: "/api/thing" });
  });

  it("by default logs a warning naming the reason", async () => {
    setAuthFailureHook(null);
    const lines: Record<string, unknown>[] = [];
    (globalThis as Record<string, unknown>).__litstatusLogger = pino(
      { level: "info" },
      { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    );
    await rejection(getViewer(requestWith({ authorization: "Bearer x.y.z" })));
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 40, msg: "authentication failed", reason: "malformed", path: "/api/thing" }),
    );
  });

  it("survives a hook that throws", async () => {
    setAuthFailureHook(() => {
      throw new Error("hook broke");
    });
    const error = await rejection(getViewer(requestWith({ authorization: "Bearer x.y.z" })));
    expect(error.code).toBe("unauthorized");
  });

  it("updates last_seen_at only when it is more than 10 minutes old", async () => {
    const id = await createAuthUser("seen@example.com");
    const token = await tokenFor(id, "seen@example.com");
    const lastSeenAge = async () => {
      const [row] = await db.query<{ age: number }>(
        "select extract(epoch from now() - last_seen_at)::float8 as age from litstatus.profiles where user_id = $1",
        [id],
      );
      return row?.age ?? Number.NaN;
    };

    await db.query("update litstatus.profiles set last_seen_at = now() - interval '5 minutes' where user_id = $1", [id]);
    await getViewer(bearer(token));
    expect(await lastSeenAge()).toBeGreaterThan(299);

    await db.query("update litstatus.profiles set last_seen_at = now() - interval '1 hour' where user_id = $1", [id]);
    await getViewer(bearer(token));
    expect(await lastSeenAge()).toBeLessThan(60);
  });

  it("in Supabase mode verifies with the project secret and refuses local tokens", async () => {
    configureEnv({ SUPABASE_JWT_SECRET: SUPABASE_SECRET });
    const id = randomUUID();
    // Supabase Auth owns auth.users: the user exists there before any token is issued.
    await db.query("insert into auth.users (id, email) values ($1, $2)", [id, "sb@example.com"]);
    const iat = Math.floor(Date.now() / 1000);
    const supabaseToken = await new SignJWT({ email: "sb@example.com", role: "authenticated", session_id: randomUUID() })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(id)
      .setAudience("authenticated")
      .setIssuer("https://project.supabase.co/auth/v1")
      .setIssuedAt(iat)
      .setExpirationTime(iat + 3600)
      .sign(new TextEncoder().encode(SUPABASE_SECRET));
    await expect(getViewer(bearer(supabaseToken))).resolves.toEqual({
      kind: "user",
      id,
      email: "sb@example.com",
      plan: "free",
      role: "user",
    });

    const local = await createAuthUser("local-only@example.com");
    await rejection(getViewer(bearer(await tokenFor(local, "local-only@example.com"))));
    expect(failures.at(-1)?.reason).toBe("bad_signature");
  });
});
