import { timingSafeEqual } from "node:crypto";
import { getEnv } from "@/lib/env";
import { getReadiness, redact } from "@/lib/health/readiness";
import { json, methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

function hasMetricsToken(req: Request): boolean {
  const expected = getEnv().METRICS_TOKEN;
  const given = /^Bearer (.+)$/i.exec(req.headers.get("authorization") ?? "")?.[1];
  if (!expected || !given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
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
