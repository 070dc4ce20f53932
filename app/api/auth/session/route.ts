import { authMode } from "@/lib/auth/mode";
import { readSessionCookie } from "@/lib/auth/session-cookie";
import { getViewer } from "@/lib/auth/viewer";
import { getEnv } from "@/lib/env";
import { unauthorizedClearingSession } from "@/lib/http/responses";
import { AppError, json, methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

/**
 * Who the browser is signed in as (never the token), and which sign-in the site uses. The viewer
 * is resolved here rather than by the policy: a stale cookie must be cleared, not just refused.
 */
const session = route("auth.session", { auth: "anyone", sameOrigin: false, limit: "api" }, async ({ req, ip, requestId }) => {
  const env = getEnv();
  try {
    const viewer = await getViewer(req, { ip });
    return json({ viewer, mode: authMode(env) });
  } catch (error) {
    // A stale cookie is dropped here so the browser falls back to being a guest.
    if (error instanceof AppError && error.code === "unauthorized" && readSessionCookie(req.headers) !== undefined) {
      return unauthorizedClearingSession(requestId, { secure: env.NODE_ENV === "production" });
    }
    throw error;
  }
});

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({ GET: session });
