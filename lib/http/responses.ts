import { clearedSessionCookie, type SessionCookieOptions } from "@/lib/auth/session-cookie";
import { AppError, errorEnvelope } from "@/lib/errors";

/** A JSON answer; `no-store` unless the caller says otherwise (API answers are per viewer). */
export function json(body: unknown, init: ResponseInit = {}): Response {
  const headers = new Headers(init.headers);
  if (!headers.has("content-type")) headers.set("content-type", "application/json; charset=utf-8");
  if (!headers.has("cache-control")) headers.set("cache-control", "no-store");
  return new Response(JSON.stringify(body), { ...init, headers });
}

/** The error envelope with the error's status, `Retry-After` and `Allow` when it carries them. */
export function errorResponse(error: AppError, requestId: string, init: { headers?: HeadersInit } = {}): Response {
  const headers = new Headers(init.headers);
  if (error.retryAfterSeconds !== undefined) {
    headers.set("Retry-After", String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
  }
  if (error.allow !== undefined) headers.set("Allow", error.allow.join(", "));
  return json(errorEnvelope(error, requestId), { status: error.status, headers });
}

/**
 * 401 in the error envelope that also drops the session cookie: a browser holding a stale or
 * revoked cookie becomes a guest instead of failing every request until it signs in again.
 */
export function unauthorizedClearingSession(requestId: string, options: SessionCookieOptions): Response {
  return errorResponse(new AppError("unauthorized", "Your session has ended. Sign in again."), requestId, {
    headers: { "Set-Cookie": clearedSessionCookie(options) },
  });
}
