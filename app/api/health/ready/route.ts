import { getEnv } from "@/lib/env";
import { getReadiness, redact } from "@/lib/health/readiness";
import { bearerMatches } from "@/lib/util/bearer";
import { json, methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

/** The metrics token (or, during a rotation, the previous one) unlocks the details. */
function hasMetricsToken(req: Request): boolean {
  const env = getEnv();
  return bearerMatches(req.headers.get("authorization"), [env.METRICS_TOKEN, env.METRICS_TOKEN_PREVIOUS]);
}

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /** Readiness (application/health+json): 200 for pass/warn, 503 for fail; details only with the metrics token. */
  GET: route("health.ready", { auth: "anyone", sameOrigin: false, limit: null, accessLog: "debug" }, async ({ req, timing }) => {
    const readiness = await timing.measure("checks", () => getReadiness());
    const body = hasMetricsToken(req) ? readiness : redact(readiness);
    return json(body, {
      status: readiness.status === "fail" ? 503 : 200,
      headers: { "content-type": "application/health+json" },
    });
  }),
});
