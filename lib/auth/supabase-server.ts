import "server-only";
import {
  AuthRetryableFetchError,
  isAuthApiError,
  isAuthRetryableFetchError,
  type AuthError as SupabaseAuthError,
  type SupabaseClient,
} from "@supabase/supabase-js";
import { serializeCookieHeader } from "@supabase/ssr";
import { getEnv, type Env } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { safeNextPath } from "./local";
import { authMode } from "./mode";
import {
  createSupabaseCookieClient,
  OUT_OF_TIME,
  supabaseSignInConfig,
  withinBudget,
  type SupabaseAuthConfig,
} from "./supabase-client";
import {
  hardenCookie,
  isCodeVerifierCookie,
  isSupabaseAuthCookie,
  readRequestCookies,
  supabaseStorageKey,
  type HardenedCookie,
} from "./supabase-cookie";

/**
 * Supabase Auth for route handlers: a per-request @supabase/ssr client over the request's
 * cookies, whose writes are collected and put on the response as HttpOnly cookies.
 */

/** The Supabase project the sign-in routes talk to; `not_found` when the site uses the local sign-in. */
export function supabaseAuthConfig(env: Env): SupabaseAuthConfig {
  if (authMode(env) !== "supabase") throw new AppError("not_found", "Supabase sign-in is off: this site uses the local sign-in.");
  const config = supabaseSignInConfig(env);
  // SUPABASE_JWT_SECRET alone verifies bearer tokens (API clients) but cannot run a sign-in.
  if (!config) throw new AppError("not_found", "Supabase sign-in needs SUPABASE_URL and SUPABASE_ANON_KEY.");
  return config;
}

/** The cookies a Supabase client wrote during one request; the last write of a name wins. */
export class SupabaseResponseCookies {
  private readonly byName = new Map<string, HardenedCookie>();
  private readonly extraHeaders: Record<string, string> = {};

  add(cookies: readonly HardenedCookie[], headers: Record<string, string> = {}): void {
    for (const cookie of cookies) {
      this.byName.delete(cookie.name);
      this.byName.set(cookie.name, cookie);
    }
    Object.assign(this.extraHeaders, headers);
  }

  get cookies(): HardenedCookie[] {
    return [...this.byName.values()];
  }

  /** `Set-Cookie` for each cookie, plus the no-store headers that keep a session out of shared caches. */
  applyTo(headers: Headers): Headers {
    for (const cookie of this.byName.values()) headers.append("Set-Cookie", serializeCookieHeader(cookie.name, cookie.value, cookie.options));
    if (this.byName.size > 0) {
      for (const [key, value] of Object.entries(this.extraHeaders)) headers.set(key, value);
      headers.set("Cache-Control", "private, no-store");
    }
    return headers;
  }
}

export interface SupabaseRequestOptions {
  /**
   * false: the client does not see the request's session cookie, only the PKCE verifier. The
   * sign-in routes start a new session: an old one left visible would be refreshed in the
   * background (supabase-js loads it as soon as a client exists), racing the response and
   * spending its single-use refresh token for nothing.
   */
  session?: boolean;
}

/** The @supabase/ssr client for this request (PKCE, cookies hardened); writes land in `responseCookies`. */
export function createSupabaseForRequest(
  req: Request,
  responseCookies: SupabaseResponseCookies,
  config: SupabaseAuthConfig = supabaseAuthConfig(getEnv()),
  options: SupabaseRequestOptions = {},
): SupabaseClient {
  const storageKey = supabaseStorageKey(config.url);
  const requestCookies = readRequestCookies(req.headers).filter(
    (c) => options.session !== false || !isSupabaseAuthCookie(c.name, storageKey) || isCodeVerifierCookie(c.name, storageKey),
  );
  return createSupabaseCookieClient(config, {
    getAll: () => requestCookies,
    setAll: (cookies, headers) => responseCookies.add(cookies, headers),
  });
}

/** Supabase Auth's answer as our error envelope: its own limits stay 429, outages 503, the rest 400. */
export function toSignInError(error: SupabaseAuthError): AppError {
  if (isAuthRetryableFetchError(error) || (error.status ?? 0) >= 500) {
    return new AppError("upstream_unavailable", "Sign-in is unavailable right now. Please try again soon.", { cause: error });
  }
  if (isAuthApiError(error) && error.status === 429) {
    // Supabase's email limits count per hour; its message carries no machine-readable delay.
    return new AppError("rate_limited", "Too many sign-in emails. Wait a minute and try again.", { retryAfterSeconds: 60, cause: error });
  }
  return new AppError("invalid_input", "This email address can't be used to sign in.", { cause: error });
}

/** Where Supabase sends the browser back to (allow-list it in the dashboard): our callback, with the landing path. */
export function supabaseCallbackUrl(origin: string, next: string): string {
  const url = new URL("/api/auth/supabase/callback", origin);
  const landing = safeNextPath(next);
  if (landing !== "/") url.searchParams.set("next", landing);
  return url.toString();
}

/** Back to the sign-in page, in the language of the landing path, saying the link did not work. */
export function invalidLinkPath(next: string): string {
  return `${/^\/zh(\/|$)/.test(next) ? "/zh" : ""}/signin?error=link_invalid`;
}

/**
 * The request as the viewer should see it: in Supabase mode a session cookie's access token may
 * have expired while its refresh token still works (API routes do not pass through the proxy
 * that refreshes it), so the session is loaded (and refreshed if due) and its token presented as
 * a bearer. A request that already carries a bearer token is returned as it is.
 */
export async function withFreshSupabaseToken(req: Request, supabase: SupabaseClient): Promise<Request> {
  if (req.headers.has("authorization")) return req;
  const outcome = await withinBudget(supabase, supabase.auth.getSession());
  const token = outcome === OUT_OF_TIME ? undefined : outcome.data.session?.access_token;
  if (!token) return req;
  const headers = new Headers(req.headers);
  headers.set("authorization", `Bearer ${token}`);
  return new Request(req.url, { headers });
}

/** Removes every Supabase session cookie the request carried or this response was about to set. */
export function clearSupabaseSession(req: Request, cookies: SupabaseResponseCookies, config: SupabaseAuthConfig): void {
  const storageKey = supabaseStorageKey(config.url);
  const names = new Set(
    [...readRequestCookies(req.headers).map((c) => c.name), ...cookies.cookies.map((c) => c.name)].filter((name) =>
      isSupabaseAuthCookie(name, storageKey),
    ),
  );
  cookies.add([...names].map((name) => hardenCookie(name, "", undefined, config.secure)));
}

/**
 * Signs the session out at Supabase: the cookie session when there is one (refreshed first if its
 * access token expired), else the bearer token's session. `global` revokes every refresh token of
 * the account. A session Supabase no longer knows counts as signed out; outages are returned.
 */
export async function signOutSupabase(
  req: Request,
  supabase: SupabaseClient,
  scope: "local" | "global",
): Promise<SupabaseAuthError | null> {
  const outOfTime = new AuthRetryableFetchError("Supabase Auth did not answer in time", 0);
  const loaded = await withinBudget(supabase, supabase.auth.getSession());
  if (loaded === OUT_OF_TIME) return outOfTime;
  if (loaded.data.session) {
    const signedOut = await withinBudget(supabase, supabase.auth.signOut({ scope }));
    return signedOut === OUT_OF_TIME ? outOfTime : signedOut.error;
  }
  if (loaded.error && isAuthRetryableFetchError(loaded.error)) return loaded.error;
  const bearer = /^Bearer[ \t]+(\S+)$/i.exec(req.headers.get("authorization")?.trim() ?? "")?.[1];
  if (!bearer) return null;
  const signedOut = await withinBudget(supabase, supabase.auth.admin.signOut(bearer, scope));
  if (signedOut === OUT_OF_TIME) return outOfTime;
  const { error } = signedOut;
  if (error && isAuthApiError(error) && [401, 403, 404].includes(error.status)) return null;
  return error;
}
