import createIntlMiddleware from "next-intl/middleware";
import { NextResponse, type NextRequest } from "next/server";
import { routing } from "./i18n/routing";
import { refreshSupabaseSession, supabaseSignInConfig, type RefreshResult } from "./lib/auth/supabase-client";
import { blockedPageHtml } from "./lib/http/blocked-page";
import { clientIpFrom } from "./lib/http/client-ip";
import { pageCsp, pageSecurityHeaders } from "./lib/http/csp";
import { getEnv } from "./lib/env";
import { getRecordWriter } from "./lib/events";
import { logFor } from "./lib/observability/logger";
import { blockedFor } from "./lib/security/blocklist";

const intl = createIntlMiddleware(routing);

/**
 * Supabase mode only: refreshes a page visitor's session when its access token is (nearly)
 * expired. The rotated cookies go on the request too, so this render already sees the new token.
 * Local mode, or no session cookie: nothing happens (no client, no network).
 */
async function refreshSession(request: NextRequest): Promise<RefreshResult | null> {
  const config = supabaseSignInConfig();
  if (!config) return null;
  let refreshed: RefreshResult;
  try {
    refreshed = await refreshSupabaseSession(config, request.cookies.getAll());
  } catch (error) {
    // Auth down or slow: render with the cookies as they are; routes verify the token themselves.
    warn("supabase session refresh failed", error instanceof Error ? error.message : String(error));
    return null;
  }
  if (refreshed.error) warn("supabase session refresh failed", refreshed.error);
  for (const { name, value } of refreshed.cookies) {
    if (value === "") request.cookies.delete(name);
    else request.cookies.set(name, value);
  }
  return refreshed;
}

/** Through the app's logger (its secret scrubbing included), like every other line. */
function warn(msg: string, err: string): void {
  logFor("auth").warn({ err }, msg);
}

/**
 * A blocklisted address gets the blocked page (403, with Retry-After) instead of any page. The
 * check reads the same in-process snapshot as the API routes' (lib/security/blocklist.ts): no
 * round trip, except the first request of a process, which loads it.
 */
async function blockedPage(request: NextRequest): Promise<NextResponse | null> {
  const env = getEnv();
  const ip = clientIpFrom(request.headers, { header: env.TRUST_PROXY_HEADER, hops: env.TRUST_PROXY_HOPS });
  const blocked = await blockedFor(ip);
  if (!blocked) return null;
  // Recorded like an API refusal: a blocked visitor may never reach an API route.
  getRecordWriter().securityEvent({
    eventType: "ip_blocked",
    severity: "warn",
    meta: { entry: blocked.id },
    ip,
    userId: null,
    path: request.nextUrl.pathname,
    userAgent: request.headers.get("user-agent"),
  });
  const lang = request.nextUrl.pathname === "/zh" || request.nextUrl.pathname.startsWith("/zh/") ? "zh" : "en";
  return new NextResponse(blockedPageHtml(lang, blocked.retryAfterSeconds), {
    status: 403,
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "retry-after": String(blocked.retryAfterSeconds) },
  });
}

/**
 * Pages only (API routes set their own headers): the blocklist, locale routing, a fresh CSP
 * nonce per request and, in Supabase mode, the session refresh. The nonce goes on the request (Next reads it from
 * the request's policy to stamp its inline scripts) and the policy on the response.
 * Authorization is not decided here: routes and the data layer check the viewer themselves.
 */
export default async function proxy(request: NextRequest): Promise<NextResponse> {
  const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  // NODE_ENV is inlined by Next at build time.
  const dev = process.env.NODE_ENV !== "production";
  const csp = pageCsp(nonce, dev);
  request.headers.set("x-nonce", nonce);
  request.headers.set("Content-Security-Policy", csp);
  const blocked = await blockedPage(request);
  if (blocked) {
    for (const [key, value] of Object.entries(pageSecurityHeaders(csp, !dev))) blocked.headers.set(key, value);
    return blocked;
  }
  const refreshed = await refreshSession(request);
  const response = intl(request);
  if (refreshed && refreshed.cookies.length > 0) {
    for (const { name, value, options } of refreshed.cookies) response.cookies.set(name, value, options);
    for (const [key, value] of Object.entries(refreshed.headers)) response.headers.set(key, value);
  }
  for (const [key, value] of Object.entries(pageSecurityHeaders(csp, !dev))) response.headers.set(key, value);
  return response;
}

export const config = {
  // Everything but API routes, Next internals and files with an extension (icons, images).
  matcher: ["/((?!api|_next|_vercel|.*\\..*).*)"],
};
