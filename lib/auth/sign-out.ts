import "server-only";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import type { Logger } from "@/lib/observability/logger";
import { clearedSessionCookie } from "./session-cookie";
import { supabaseSignInConfig } from "./supabase-client";
import { clearSupabaseSession, createSupabaseForRequest, signOutSupabase, SupabaseResponseCookies, withFreshSupabaseToken } from "./supabase-server";
import { getViewer, revokeAllSessions } from "./viewer";

export interface SignOut {
  /** `no_session`: everywhere was asked without a valid session; `unavailable`: Supabase could not revoke the others. */
  outcome: "signed_out" | "no_session" | "unavailable";
  /** Adds the cookie clearings (ours, and Supabase's in that mode) to a response's headers: every outcome drops them. */
  clearCookies: (headers: Headers) => Headers;
}

/**
 * Ends this browser's session; `everywhere` also ends every session of the account (tokens issued
 * before now stop working). In Supabase mode the session is signed out at Supabase too (scope
 * `local`, or `global` for everywhere, which revokes every refresh token). Everywhere never claims
 * success while Supabase still honours the other refresh tokens.
 */
export async function signOut(req: Request, options: { everywhere: boolean; ip: string | null; log: Logger }): Promise<SignOut> {
  const env = getEnv();
  const config = supabaseSignInConfig(env);
  const cookies = new SupabaseResponseCookies();
  const supabase = config ? createSupabaseForRequest(req, cookies, config) : null;
  const result = (outcome: SignOut["outcome"]): SignOut => ({
    outcome,
    clearCookies: (headers) => {
      headers.append("Set-Cookie", clearedSessionCookie({ secure: env.NODE_ENV === "production" }));
      if (!config) return headers;
      clearSupabaseSession(req, cookies, config);
      return cookies.applyTo(headers);
    },
  });

  if (options.everywhere) {
    const viewerRequest = supabase ? await withFreshSupabaseToken(req, supabase) : req;
    const viewer = await getViewer(viewerRequest, { ip: options.ip }).catch((error: unknown) => {
      if (error instanceof AppError && error.code === "unauthorized") return null;
      throw error;
    });
    if (viewer?.kind !== "user") return result("no_session");
    await revokeAllSessions(viewer.id);
  }
  if (supabase) {
    const scope = options.everywhere ? "global" : "local";
    const error = await signOutSupabase(req, supabase, scope);
    if (error) {
      options.log.warn({ scope, status: error.status, code: error.code }, "supabase sign-out failed");
      if (options.everywhere) return result("unavailable");
    }
  }
  return result("signed_out");
}
