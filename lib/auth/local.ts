import "server-only";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { Env } from "@/lib/env";
import { getDb, type Queryable } from "@/lib/db";
import { logFor } from "@/lib/observability/logger";
import { getLocalSigningSecret } from "./secret";
import { signSessionToken } from "./tokens";

/**
 * The embedded email sign-in (used when Supabase Auth is not configured): a one-time link,
 * printed to the server log, that exchanges for the same kind of session token Supabase issues.
 */

export const SIGN_IN_LINK_TTL_MINUTES = 15;
const TOKEN_BYTES = 32;
/** 32 bytes in base64url, unpadded. */
const TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}$/;
const MAX_NEXT_PATH_LENGTH = 512;
/** Consumed or expired links are kept this long for troubleshooting, then purged. */
const PURGE_AFTER = "1 day";

export interface SignInLink {
  email: string;
  link: string;
  expiresAt: Date;
}

/** Where a new sign-in link goes. The default writes one info line to the server log. */
export type SignInLinkSink = (link: SignInLink) => void | Promise<void>;

const defaultSink: SignInLinkSink = ({ email, link, expiresAt }) => {
  logFor("auth").info({ email, link, expiresAt: expiresAt.toISOString() }, "local sign-in link");
};

// On globalThis: Next bundles instrumentation and each route separately, so a module-level
// variable set in one would not be seen by the others.
const globalForSink = globalThis as unknown as { __litstatusSignInLinkSink?: SignInLinkSink };

/** Replaces where sign-in links go (e.g. a mailer, or a test capturing them); null restores the log. */
export function setSignInLinkSink(sink: SignInLinkSink | null): void {
  globalForSink.__litstatusSignInLinkSink = sink ?? undefined;
}

export function hashSignInToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** A same-site path to land on after sign-in; anything else (absolute, `//host`, `/\host`) becomes `/`. */
export function safeNextPath(raw: string | null | undefined): string {
  if (!raw || raw.length > MAX_NEXT_PATH_LENGTH) return "/";
  if (!raw.startsWith("/") || raw.startsWith("//") || /[\\\u0000-\u001f\u007f]/.test(raw)) return "/";
  const base = "http://same-site.invalid";
  try {
    const url = new URL(raw, base);
    const path = `${url.pathname}${url.search}${url.hash}`;
    // Dot segments can normalise `/.//host` into `//host`: check what the browser will see.
    return url.origin === base && !path.startsWith("//") ? path : "/";
  } catch {
    return "/";
  }
}

/**
 * The origin links point at: APP_URL when configured (set it in production), else the host the
 * browser addressed (the Host header: Next's own request URL may say "localhost" when the
 * browser used 127.0.0.1, and a session cookie set on one is not sent to the other).
 */
export function publicOrigin(req: Request, env: Env): string {
  if (env.APP_URL) return new URL(env.APP_URL).origin;
  const url = new URL(req.url);
  const host = req.headers.get("host");
  if (host && /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host)) return `${url.protocol}//${host}`;
  return url.origin;
}

/**
 * Stores a single-use sign-in token (only its SHA-256) for `email` and hands the link to the
 * sink. Whether an account exists makes no difference: the first sign-in creates it.
 */
export async function createSignInLink(email: string, origin: string, next?: string): Promise<SignInLink> {
  const db = await getDb();
  const token = randomBytes(TOKEN_BYTES).toString("base64url");
  await db.query(`delete from litstatus.login_tokens where expires_at < now() - interval '${PURGE_AFTER}'`);
  const [row] = await db.query<{ expires_at: Date | string }>(
    `insert into litstatus.login_tokens (token_hash, email, expires_at)
     values ($1, $2, now() + $3::int * interval '1 minute')
     returning expires_at`,
    [hashSignInToken(token), email, SIGN_IN_LINK_TTL_MINUTES],
  );
  const url = new URL("/api/auth/local/callback", origin);
  url.searchParams.set("token", token);
  const landing = safeNextPath(next);
  if (landing !== "/") url.searchParams.set("next", landing);
  const link: SignInLink = { email, link: url.toString(), expiresAt: new Date(row?.expires_at ?? Date.now()) };
  await (globalForSink.__litstatusSignInLinkSink ?? defaultSink)(link);
  return link;
}

/** Marks the token used and returns its email, in one statement: a link works once, before it expires. */
export async function consumeSignInToken(db: Queryable, token: string): Promise<string | null> {
  if (!TOKEN_FORMAT.test(token)) return null;
  const [row] = await db.query<{ email: string }>(
    `update litstatus.login_tokens set used_at = now()
     where token_hash = $1 and used_at is null and expires_at > now()
     returning email`,
    [hashSignInToken(token)],
  );
  return row?.email ?? null;
}

/** The auth user with this email, created if absent; the auth.users trigger creates the profile. */
export async function findOrCreateUserByEmail(db: Queryable, email: string): Promise<string> {
  const find = () =>
    db.query<{ id: string }>("select id from auth.users where lower(email) = $1 order by created_at limit 1", [email]);
  const [existing] = await find();
  if (existing) return existing.id;
  // `on conflict do nothing` with no target: whichever unique index a concurrent sign-in hit.
  const [created] = await db.query<{ id: string }>(
    "insert into auth.users (id, email) values ($1, $2) on conflict do nothing returning id",
    [randomUUID(), email],
  );
  if (created) return created.id;
  const [raced] = await find();
  if (raced) return raced.id;
  throw new Error("could not create the auth user");
}

export interface LocalSession {
  userId: string;
  email: string;
  token: string;
  maxAgeSeconds: number;
}

/** Exchanges a sign-in link's token for a session, or null when the link is invalid, used or expired. */
export async function completeLocalSignIn(env: Env, token: string): Promise<LocalSession | null> {
  const secret = getLocalSigningSecret(env);
  const db = await getDb();
  const email = await consumeSignInToken(db, token);
  if (email === null) return null;
  const userId = await findOrCreateUserByEmail(db, email);
  const maxAgeSeconds = env.AUTH_SESSION_DAYS * 86_400;
  const session = await signSessionToken({ sub: userId, email, sessionId: randomUUID() }, secret, maxAgeSeconds);
  return { userId, email, token: session, maxAgeSeconds };
}
