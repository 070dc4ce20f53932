import "server-only";
import type { Env } from "@/lib/env";

/**
 * Supabase Auth when the project is configured (its JWT secret or its URL for the JWKS);
 * otherwise the embedded local sign-in, so every feature works on a fresh machine.
 */
export type AuthMode = "supabase" | "local";

export function authMode(env: Env): AuthMode {
  return env.SUPABASE_JWT_SECRET !== undefined || env.SUPABASE_URL !== undefined ? "supabase" : "local";
}

/** Where Supabase publishes the project's signing keys. */
export function supabaseJwksUrl(supabaseUrl: string): string {
  return `${supabaseUrl.replace(/\/+$/, "")}/auth/v1/.well-known/jwks.json`;
}

/** `ADMIN_EMAILS` as a set of lower-cased addresses. */
export function adminEmails(env: Env): Set<string> {
  return new Set(
    (env.ADMIN_EMAILS ?? "")
      .split(",")
      .map((e) => e.trim().toLowerCase())
      .filter((e) => e !== ""),
  );
}
