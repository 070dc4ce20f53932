import { clearedSessionCookie } from "@/lib/auth/session-cookie";
import {
  clearSupabaseSession,
  createSupabaseForRequest,
  signOutSupabase,
  SupabaseResponseCookies,
  withFreshSupabaseToken,
} from "@/lib/auth/supabase-server";
import { supabaseSignInConfig } from "@/lib/auth/supabase-client";
import { getViewer, revokeAllSessions } from "@/lib/auth/viewer";
import { getEnv, type Env } from "@/lib/env";
import { readBodyText, readJsonBody } from "@/lib/http/body";
import { errorResponse, unauthorizedClearingSession } from "@/lib/http/responses";
import { AppError, json, methods, route, type BodyParser } from "@/lib/http/route";
import { logoutSchema } from "./schema";

export const dynamic = "force-dynamic";

/** The optional JSON body; a bare POST (no body, no content type) means `{}`. */
const logoutBody: BodyParser<{ everywhere?: boolean }> = async (req, { maxJsonBytes }) => {
  if (req.headers.get("content-type")) return readJsonBody(req, logoutSchema, maxJsonBytes);
  if ((await readBodyText(req, maxJsonBytes)).trim() !== "") {
    throw new AppError("unsupported_media_type", "Send the body as application/json.");
  }
  return {};
};

/** Supabase mode with a sign-in configured: the session's client and the cookies it writes. */
function supabaseSession(req: Request, env: Env) {
  const config = supabaseSignInConfig(env);
  if (!config) return null;
  const cookies = new SupabaseResponseCookies();
  return { config, cookies, client: createSupabaseForRequest(req, cookies, config) };
}

/**
 * Ends this browser's session; with `{ everywhere: true }` every session of the account. In
 * Supabase mode the session is also signed out at Supabase (scope `local`, or `global` for
 * everywhere, which revokes every refresh token) and its cookies are cleared.
 */
const logout = route("auth.logout", { auth: "anyone", sameOrigin: true, limit: "api", body: logoutBody }, async ({ req, ip, requestId, log, body }) => {
  const env = getEnv();
  const cookie = { secure: env.NODE_ENV === "production" };
  const { everywhere } = body;
  const supabase = supabaseSession(req, env);
  const withSupabaseCleared = (response: Response): Response => {
    if (!supabase) return response;
    clearSupabaseSession(req, supabase.cookies, supabase.config);
    const headers = supabase.cookies.applyTo(new Headers(response.headers));
    return new Response(response.body, { status: response.status, headers });
  };

  if (everywhere) {
    const viewerRequest = supabase ? await withFreshSupabaseToken(req, supabase.client) : req;
    const viewer = await getViewer(viewerRequest, { ip }).catch((error: unknown) => {
      if (error instanceof AppError && error.code === "unauthorized") return null;
      throw error;
    });
    if (viewer?.kind !== "user") return withSupabaseCleared(unauthorizedClearingSession(requestId, cookie));
    await revokeAllSessions(viewer.id);
  }

  if (supabase) {
    const scope = everywhere ? "global" : "local";
    const error = await signOutSupabase(req, supabase.client, scope);
    if (error) {
      log.warn({ scope, status: error.status, code: error.code }, "supabase sign-out failed");
      // Everywhere must not claim success while Supabase still honours the other refresh tokens.
      if (everywhere) {
        const failure = new AppError("upstream_unavailable", "Signing out everywhere is unavailable right now. Please try again soon.");
        return withSupabaseCleared(errorResponse(failure, requestId, { headers: { "Set-Cookie": clearedSessionCookie(cookie) } }));
      }
    }
  }
  return withSupabaseCleared(
    json({ ok: true, everywhere: Boolean(everywhere) }, { headers: { "Set-Cookie": clearedSessionCookie(cookie) } }),
  );
});

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({ POST: logout });
