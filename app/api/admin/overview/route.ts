import { z } from "zod";
import { readOverview } from "@/lib/admin/overview";
import { json, methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /** GET /api/admin/overview — health, breaker, in-flight/queue, cache hit rate, p50/p95, error rate, today's counts, 24 h series. */
  GET: route("admin.overview", { auth: "moderator", sameOrigin: false, limit: "api", query: z.strictObject({}) }, async ({ viewer }) => {
    return json(await readOverview({ details: viewer.role === "admin" }));
  }),
});
