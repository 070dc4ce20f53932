import "server-only";
import { parseCookieHeader, serializeCookieHeader } from "@supabase/ssr";

/** The session cookie API routes accept alongside `Authorization: Bearer`. */
export const SESSION_COOKIE = "ls_session";

export interface SessionCookieOptions {
  /** `Secure` attribute: on in production. */
  secure: boolean;
}

/** `Set-Cookie` for a session: HttpOnly (no script reads it), SameSite=Lax, whole site. */
export function sessionCookie(token: string, maxAgeSeconds: number, options: SessionCookieOptions): string {
  return serializeCookieHeader(SESSION_COOKIE, token, {
    path: "/",
    httpOnly: true,
    sameSite: "lax",
    maxAge: Math.max(0, Math.floor(maxAgeSeconds)),
    secure: options.secure,
  });
}

/** `Set-Cookie` that removes the session cookie. */
export function clearedSessionCookie(options: SessionCookieOptions): string {
  return sessionCookie("", 0, options);
}

/** The session cookie's value from a request's `Cookie` header, or undefined. */
export function readSessionCookie(headers: Headers): string | undefined {
  const value = parseCookieHeader(headers.get("cookie") ?? "").find((c) => c.name === SESSION_COOKIE)?.value;
  return value ? value : undefined;
}
