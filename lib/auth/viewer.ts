import "server-only";
import { createHash } from "node:crypto";
import { getEnv, type Env } from "@/lib/env";
import { getDb, type Queryable } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { logFor } from "@/lib/observability/logger";
import { adminEmails, authMode, supabaseJwksUrl } from "./mode";
import { getLocalSigningSecret } from "./secret";
import { readSessionCookie } from "./session-cookie";
import { readRequestCookies, readSupabaseAccessToken, supabaseStorageKey } from "./supabase-cookie";
import {
  AuthError,
  createTokenVerifier,
  LOCAL_TOKEN_ISSUER,
  type AuthFailureReason,
  type TokenClaims,
  type TokenVerifier,
  type TokenVerifierOptions,
} from "./tokens";

export type Plan = "free" | "pro";
export type Role = "user" | "moderator" | "admin";

export type Viewer =
  | { kind: "guest" }
  | { kind: "user"; id: string; email: string | null; plan: Plan; role: Role };

/** Token problems, plus a valid token for a revoked session or an account that no longer exists. */
export type ViewerFailureReason = AuthFailureReason | "revoked" | "unknown_user";

export interface AuthFailure {
  reason: ViewerFailureReason;
  ip?: string;
  path: string;
}

export type AuthFailureHook = (failure: AuthFailure) => void | Promise<void>;

/** last_seen_at is written at most this often per user. */
const LAST_SEEN_INTERVAL = "10 minutes";

const defaultFailureHook: AuthFailureHook = (failure) => {
  logFor("auth").warn(failure, "authentication failed");
};

// On globalThis: the hook is set once at start-up (instrumentation), which Next bundles
// separately from the routes that call getViewer.
const globalForAuth = globalThis as unknown as { __litstatusAuthFailureHook?: AuthFailureHook };

/** Where rejected tokens are reported (e.g. security events); null restores the default warn log. */
export function setAuthFailureHook(hook: AuthFailureHook | null): void {
  globalForAuth.__litstatusAuthFailureHook = hook ?? undefined;
}

function reportFailure(failure: AuthFailure): void {
  const hook = globalForAuth.__litstatusAuthFailureHook ?? defaultFailureHook;
  try {
    void Promise.resolve(hook(failure)).catch((error: unknown) => {
      logFor("auth").error({ err: error }, "auth failure hook failed");
    });
  } catch (error) {
    logFor("auth").error({ err: error }, "auth failure hook failed");
  }
}

let cachedVerifier: { key: string; verifier: TokenVerifier } | undefined;

function verifierOptions(env: Env): TokenVerifierOptions {
  if (authMode(env) === "supabase") {
    return {
      hs256Secret: env.SUPABASE_JWT_SECRET,
      jwksUrl: env.SUPABASE_URL === undefined ? undefined : supabaseJwksUrl(env.SUPABASE_URL),
    };
  }
  return { hs256Secret: getLocalSigningSecret(env), hs256PreviousSecret: env.AUTH_SECRET_PREVIOUS, issuer: LOCAL_TOKEN_ISSUER };
}

/** The one thing kept across requests: rebuilt only when the configuration changes. */
function getVerifier(env: Env): TokenVerifier {
  const options = verifierOptions(env);
  const key = createHash("sha256").update(JSON.stringify(options)).digest("hex");
  if (cachedVerifier?.key !== key) cachedVerifier = { key, verifier: createTokenVerifier(options) };
  return cachedVerifier.verifier;
}

/**
 * `Authorization: Bearer …` first (scripts, mobile), else the session cookie, else (Supabase mode)
 * the access token in @supabase/ssr's session cookie; "" for an empty bearer or an unreadable cookie.
 */
function presentedToken(req: Request, env: Env): string | undefined {
  const authorization = req.headers.get("authorization");
  const bearer = authorization ? /^Bearer(?:[ \t]+(.*))?$/i.exec(authorization.trim()) : null;
  if (bearer) return (bearer[1] ?? "").trim();
  const session = readSessionCookie(req.headers);
  if (session !== undefined || env.SUPABASE_URL === undefined || authMode(env) !== "supabase") return session;
  return readSupabaseAccessToken(readRequestCookies(req.headers), supabaseStorageKey(env.SUPABASE_URL));
}

interface ProfileRow {
  user_id: string;
  email: string | null;
  plan: string;
  role: string;
  revoked_at: number | null;
  disabled: boolean;
  stale: boolean;
}

const SELECT_PROFILE = `
  select user_id, email, plan, role,
         extract(epoch from sessions_revoked_at)::float8 as revoked_at,
         disabled_at is not null as disabled,
         last_seen_at < now() - interval '${LAST_SEEN_INTERVAL}' as stale
  from litstatus.profiles where user_id = $1`;

async function loadProfile(db: Queryable, claims: TokenClaims, email: string | null): Promise<ProfileRow | undefined> {
  const [found] = await db.query<ProfileRow>(SELECT_PROFILE, [claims.sub]);
  if (found) return found;
  // A valid token without a profile: a user created before the auth.users trigger existed.
  // Only a user that still exists in auth.users gets one: a deleted account stays deleted even
  // while an old token is unexpired.
  await db.query(
    `insert into litstatus.profiles (user_id, email)
     select $1, $2 where exists (select 1 from auth.users where id = $1)
     on conflict (user_id) do nothing`,
    [claims.sub, email],
  );
  const [created] = await db.query<ProfileRow>(SELECT_PROFILE, [claims.sub]);
  return created;
}

async function touchProfile(db: Queryable, userId: string, email: string | null): Promise<void> {
  try {
    await db.query(
      `update litstatus.profiles set last_seen_at = now(), email = coalesce($2, email)
       where user_id = $1
         and (last_seen_at < now() - interval '${LAST_SEEN_INTERVAL}' or ($2::text is not null and email is distinct from $2::text))`,
      [userId, email],
    );
  } catch (error) {
    logFor("auth").warn({ err: error, userId }, "could not update last_seen_at");
  }
}

export interface GetViewerOptions {
  /** The trusted client IP the route wrapper resolved, for the `auth_failure` event (none if omitted). */
  ip?: string | null;
  /** false: a bad token is still rejected, but not reported as an `auth_failure` (page renders, beacons). */
  reportFailures?: boolean;
}

/**
 * Who is asking: a guest when no token is presented, a user when it verifies; any token that
 * does not verify (or belongs to a revoked session) is `unauthorized`, never a silent guest.
 * A valid token of a disabled account is `account_disabled` (403).
 */
export async function getViewer(req: Request, options: GetViewerOptions = {}): Promise<Viewer> {
  const env = getEnv();
  const token = presentedToken(req, env);
  if (token === undefined) return { kind: "guest" };

  const fail = (reason: ViewerFailureReason): never => {
    const ip = options.ip ?? null;
    if (options.reportFailures !== false) reportFailure({ reason, path: new URL(req.url).pathname, ...(ip ? { ip } : {}) });
    throw new AppError("unauthorized", "Your session is not valid. Sign in again.");
  };

  let claims: TokenClaims;
  try {
    claims = await getVerifier(env).verify(token);
  } catch (error) {
    if (error instanceof AuthError) return fail(error.reason);
    throw error;
  }

  const db = await getDb();
  const tokenEmail = claims.email?.trim().toLowerCase() || null;
  const profile = await loadProfile(db, claims, tokenEmail);
  if (!profile) return fail("unknown_user");
  // Before the revocation check: disabling also ends the sessions, and the old token of a
  // disabled account should say why it is refused (403 account_disabled, not 401).
  if (profile.disabled) throw new AppError("account_disabled");
  if (profile.revoked_at !== null && claims.iat < profile.revoked_at) return fail("revoked");

  const email = tokenEmail ?? profile.email?.toLowerCase() ?? null;
  if (profile.stale || (tokenEmail !== null && tokenEmail !== profile.email)) await touchProfile(db, profile.user_id, tokenEmail);

  const storedRole: Role = profile.role === "admin" || profile.role === "moderator" ? profile.role : "user";
  return {
    kind: "user",
    id: profile.user_id,
    email,
    plan: profile.plan === "pro" ? "pro" : "free",
    role: email !== null && adminEmails(env).has(email) ? "admin" : storedRole,
  };
}

/** Log out everywhere: every token issued before now stops working. */
export async function revokeAllSessions(userId: string): Promise<void> {
  await (await getDb()).query("update litstatus.profiles set sessions_revoked_at = now() where user_id = $1", [userId]);
}
