import { getViewer } from "@/lib/auth/viewer";
import { getEnv } from "@/lib/env";
import { getReadiness, redact } from "@/lib/health/readiness";
import { bearerMatches } from "@/lib/util/bearer";
import { withTimeout } from "@/lib/util/with-timeout";
import { json, methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

/** How long the admin check may take: a monitor's readiness must not wait on a slow sign-in. */
const ADMIN_CHECK_MS = 1_000;

/**
 * Error details go to the metrics token (or, during a rotation, the previous one) and to a
 * signed-in admin (PRODUCT §5). The session is only looked at when no token matched, and any
 * failure to verify it (no session, a bad one, the database down) gives the redacted answer:
 * with the database down only the metrics token still unlocks the details.
 */
async function mayReadDetails(req: Request, ip: string | null): Promise<boolean> {
  const env = getEnv();
  if (bearerMatches(req.headers.get("authorization"), [env.METRICS_TOKEN, env.METRICS_TOKEN_PREVIOUS])) return true;
  try {
    const viewer = await withTimeout(getViewer(req, { ip, reportFailures: false }), ADMIN_CHECK_MS, "readiness admin check");
    return viewer.kind === "user" && viewer.role === "admin";
  } catch {
    return false;
  }
}

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /** Readiness (application/health+json): 200 for pass/warn, 503 for fail; details only for the metrics token or an admin. */
  GET: route("health.ready", { auth: "anyone", sameOrigin: false, limit: null, accessLog: "debug" }, async ({ req, ip, timing }) => {
    const [readiness, details] = await Promise.all([timing.measure("checks", () => getReadiness()), mayReadDetails(req, ip)]);
    const body = details ? readiness : redact(readiness);
    return json(body, {
      status: readiness.status === "fail" ? 503 : 200,
      headers: { "content-type": "application/health+json" },
    });
  }),
});
