import { funnelQuery, funnelReport } from "@/lib/admin/funnel";
import { json, methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /** GET /api/admin/funnel?days=1|7|30|180&by=source|lang|variant — per event counts, uniques and the runbook's conversion. */
  GET: route("admin.funnel", { auth: "moderator", sameOrigin: false, limit: "api", query: funnelQuery }, async ({ query, timing }) =>
    json(await timing.measure("db", () => funnelReport(query))),
  ),
});
