import { getEnv } from "@/lib/env";
import { getReadiness } from "@/lib/health/readiness";
import { methods, route } from "@/lib/http/route";
import { METRICS_CONTENT_TYPE, metricsText, observeDependencies, requireMetricsToken } from "@/lib/observability/metrics";

export const dynamic = "force-dynamic";

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /**
   * GET /api/metrics — Prometheus text (this process's series, default process metrics included).
   * Bearer METRICS_TOKEN (constant-time); 404 while it is unset, 401 when missing or wrong.
   * Dependency readiness (cached ≤ 5 s, bounded by its timeouts) is read at scrape time.
   */
  GET: route("metrics", { auth: "anyone", sameOrigin: false, limit: null, accessLog: "debug" }, async ({ req, timing }) => {
    requireMetricsToken(req.headers.get("authorization"), getEnv().METRICS_TOKEN, getEnv().METRICS_TOKEN_PREVIOUS);
    observeDependencies(await timing.measure("checks", () => getReadiness()));
    return new Response(await metricsText(), {
      headers: { "content-type": METRICS_CONTENT_TYPE, "cache-control": "no-store" },
    });
  }),
});
