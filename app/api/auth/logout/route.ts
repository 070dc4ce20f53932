import { clearedSessionCookie, unauthorizedClearingSession } from "@/lib/auth/session-cookie";
import {
  clearSupabaseSession,
  createSupabaseForRequest,
  signOutSupabase,
  SupabaseResponseCookies,
  withFreshSupabaseToken,
} from "@/lib/auth/supabase-server";
import { supabaseSignInConfig } from "@/lib/auth/supabase-client";
import { getViewer, revokeAllSessions } from "@/lib/auth/viewer";
import { getDb } from "@/lib/db";
import { getEnv, type Env } from "@/lib/env";
import { readBodyText, readJsonBody } from "@/lib/http/body";
import { errorEnvelope } from "@/lib/http/errors";
import { assertSameOrigin } from "@/lib/http/origin";
import { AppError, json, route } from "@/lib/http/route";
import { logoutSchema } from "./schema";

export const dynamic = "force-dynamic";

/** Reads the optional JSON body; a bare POST (no body, no content type) means `{}`. */
async function readLogoutBody(req: Request, maxBytes: number) {
  if (req.headers.get("content-type")) return readJsonBody(req, logoutSchema, maxBytes);
  if ((await readBodyText(req, maxBytes)).trim() !== "") {
    throw new AppError("unsupported_media_type", "Send the body as application/json.");
  }
  return {};
}

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
export const POST = route("auth.logout", async ({ req, ip, requestId, log }) => {
  assertSameOrigin(req);
  const env = getEnv();
  const cookie = { secure: env.NODE_ENV === "production" };
  const { everywhere } = await readLogoutBody(req, env.MAX_JSON_BODY_BYTES);
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
    await revokeAllSessions(await getDb(), viewer.id);
  }

  if (supabase) {
    const scope = everywhere ? "global" : "local";
    const error = await signOutSupabase(req, supabase.client, scope);
    if (error) {
      log.warn({ scope, status: error.status, code: error.code }, "supabase sign-out failed");
      // Everywhere must not claim success while Supabase still honours the other refresh tokens.
      if (everywhere) {
        const failure = new AppError("upstream_unavailable", "Signing out everywhere is unavailable right now. Please try again soon.");
        const headers = new Headers({ "Set-Cookie": clearedSessionCookie(cookie) });
        return withSupabaseCleared(json(errorEnvelope(failure, requestId), { status: failure.status, headers }));
      }
    }
  }
  return withSupabaseCleared(
    json({ ok: true, everywhere: Boolean(everywhere) }, { headers: { "Set-Cookie": clearedSessionCookie(cookie) } }),
  );
});
