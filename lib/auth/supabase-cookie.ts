/**
 * The Supabase Auth session as @supabase/ssr stores it in cookies, read and written without
 * the SDK or the network. No "server-only": the proxy (proxy.ts) uses these helpers too.
 *
 * The session lives under `sb-<project-ref>-auth-token`, split into `.0`, `.1`, … chunks when it
 * is long; each value is `base64-` + base64url(JSON) (or, with raw encoding, the JSON itself)
 * and the JSON holds `access_token`, `refresh_token`, `expires_at` and the user.
 */
import { DEFAULT_COOKIE_OPTIONS, isChunkLike, parseCookieHeader, type CookieOptions } from "@supabase/ssr";

export interface RequestCookie {
  name: string;
  value: string;
}

/** A cookie the app writes for Supabase Auth: always HttpOnly, SameSite=Lax, whole site. */
export interface HardenedCookie {
  name: string;
  /** "" removes the cookie (Max-Age=0). */
  value: string;
  options: { httpOnly: true; sameSite: "lax"; path: "/"; secure: boolean; maxAge: number };
}

/** Chunks beyond this are ignored: a real session needs a handful (3180 characters each). */
const MAX_CHUNKS = 32;
const BASE64_PREFIX = "base64-";
/** @supabase/ssr's default lifetime for the session cookie (400 days, the browser maximum). */
const DEFAULT_MAX_AGE_SECONDS = DEFAULT_COOKIE_OPTIONS.maxAge ?? 400 * 24 * 60 * 60;

/** supabase-js's default storage key: the first label of the project URL's host. */
export function supabaseStorageKey(supabaseUrl: string): string {
  return `sb-${new URL(supabaseUrl).hostname.split(".")[0]}-auth-token`;
}

/** The PKCE code verifier a sign-in leaves until its callback. */
export function isCodeVerifierCookie(name: string, storageKey: string): boolean {
  return isChunkLike(name, `${storageKey}-code-verifier`);
}

/** Every cookie of the Supabase session (the token chunks and the PKCE code verifier). */
export function isSupabaseAuthCookie(name: string, storageKey: string): boolean {
  return isChunkLike(name, storageKey) || isCodeVerifierCookie(name, storageKey);
}

/**
 * The request's cookies as name/value pairs, parsed by @supabase/ssr (the `cookie` package:
 * values URL-decoded where they parse; for a repeated name the first one counts).
 */
export function readRequestCookies(headers: Headers): RequestCookie[] {
  return parseCookieHeader(headers.get("cookie") ?? "").map(({ name, value }) => ({ name, value: value ?? "" }));
}

/** The stored value for `key`: the unchunked cookie, else the chunks joined; undefined when absent. */
function combineChunks(cookies: readonly RequestCookie[], key: string): string | undefined {
  const find = (name: string) => cookies.find((c) => c.name === name)?.value;
  const whole = find(key);
  if (whole) return whole;
  const chunks: string[] = [];
  for (let i = 0; i < MAX_CHUNKS; i++) {
    const chunk = find(`${key}.${i}`);
    if (!chunk) break;
    chunks.push(chunk);
  }
  return chunks.length > 0 ? chunks.join("") : undefined;
}

/**
 * The access token in the @supabase/ssr session cookie(s): undefined when there is no such
 * cookie, "" when there is one but it holds no readable session (so the caller treats it as a
 * malformed token, never as a silent guest). The token is NOT verified here.
 */
export function readSupabaseAccessToken(cookies: readonly RequestCookie[], storageKey: string): string | undefined {
  const stored = combineChunks(cookies, storageKey);
  if (stored === undefined) return undefined;
  try {
    const json = stored.startsWith(BASE64_PREFIX)
      ? Buffer.from(stored.slice(BASE64_PREFIX.length), "base64url").toString("utf8")
      : stored;
    const session: unknown = JSON.parse(json);
    if (typeof session === "object" && session !== null && "access_token" in session) {
      const token = session.access_token;
      if (typeof token === "string") return token;
    }
  } catch {
    // Unreadable (e.g. chunks from two different writes): reported as a malformed token.
  }
  return "";
}

/**
 * Whatever @supabase/ssr asks for, the cookie is HttpOnly (no script can read the tokens),
 * SameSite=Lax, host-only on the whole site, and Secure in production.
 */
export function hardenCookie(name: string, value: string, options: CookieOptions | undefined, secure: boolean): HardenedCookie {
  const maxAge = value === "" ? 0 : Math.max(0, Math.floor(options?.maxAge ?? DEFAULT_MAX_AGE_SECONDS));
  return { name, value, options: { httpOnly: true, sameSite: "lax", path: "/", secure, maxAge } };
}

/** Removal cookies for every Supabase session cookie the request carries. */
export function clearedSupabaseCookies(cookies: readonly RequestCookie[], storageKey: string, secure: boolean): HardenedCookie[] {
  const names = new Set(cookies.map((c) => c.name).filter((name) => isSupabaseAuthCookie(name, storageKey)));
  return [...names].map((name) => hardenCookie(name, "", undefined, secure));
}
