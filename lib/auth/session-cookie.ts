import "server-only";
import { AppError, errorEnvelope } from "@/lib/http/errors";
import { json } from "@/lib/http/route";

/** The session cookie API routes accept alongside `Authorization: Bearer`. */
export const SESSION_COOKIE = "ls_session";

export interface SessionCookieOptions {
  /** `Secure` attribute: on in production. */
  secure: boolean;
}

/** `Set-Cookie` for a session: HttpOnly (no script reads it), SameSite=Lax, whole site. */
export function sessionCookie(token: string, maxAgeSeconds: number, options: SessionCookieOptions): string {
  const attributes = [`${SESSION_COOKIE}=${token}`, "Path=/", "HttpOnly", "SameSite=Lax", `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`];
  if (options.secure) attributes.push("Secure");
  return attributes.join("; ");
}

/** `Set-Cookie` that removes the session cookie. */
export function clearedSessionCookie(options: SessionCookieOptions): string {
  return sessionCookie("", 0, options);
}

/** The session cookie's value from a request's `Cookie` header, or undefined. */
export function readSessionCookie(headers: Headers): string | undefined {
  const header = headers.get("cookie");
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    return value === "" ? undefined : value;
  }
  return undefined;
}

/**
 * 401 in the error envelope that also drops the session cookie: a browser holding a stale or
 * revoked cookie becomes a guest instead of failing every request until it signs in again.
 */
export function unauthorizedClearingSession(requestId: string, options: SessionCookieOptions): Response {
  return json(errorEnvelope(new AppError("unauthorized", "Your session has ended. Sign in again."), requestId), {
    status: 401,
    headers: { "Set-Cookie": clearedSessionCookie(options) },
  });
}
