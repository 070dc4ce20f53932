import { authMode } from "@/lib/auth/mode";
import { readSessionCookie, unauthorizedClearingSession } from "@/lib/auth/session-cookie";
import { getViewer } from "@/lib/auth/viewer";
import { getEnv } from "@/lib/env";
import { AppError, json, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

/** Who the browser is signed in as (never the token), and which sign-in the site uses. */
export const GET = route("auth.session", async ({ req, ip, requestId }) => {
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
