import { signOut } from "@/lib/auth/sign-out";
import { readBodyText, readJsonBody } from "@/lib/http/body";
import { errorResponse } from "@/lib/http/responses";
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

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /**
   * POST /api/auth/logout — ends this browser's session; `{ everywhere: true }` every session of
   * the account. Every answer clears the session cookies, so a stale browser becomes a guest.
   */
  POST: route("auth.logout", { auth: "anyone", sameOrigin: true, limit: "api", body: logoutBody }, async ({ req, ip, requestId, log, body }) => {
    const everywhere = body.everywhere ?? false;
    const { outcome, clearCookies } = await signOut(req, { everywhere, ip, log });
    const headers = clearCookies(new Headers());
    if (outcome === "no_session") {
      return errorResponse(new AppError("unauthorized", "Your session has ended. Sign in again."), requestId, { headers });
    }
    if (outcome === "unavailable") {
      const failure = new AppError("upstream_unavailable", "Signing out everywhere is unavailable right now. Please try again soon.");
      return errorResponse(failure, requestId, { headers });
    }
    return json({ ok: true, everywhere }, { headers });
  }),
});
