import { listFeedback, pageQuery } from "@/lib/admin/tables";
import { json, methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /** GET /api/admin/feedback?limit&offset — newest first, with the total. */
  GET: route("admin.feedback", { auth: "moderator", sameOrigin: false, limit: "api", query: pageQuery }, async ({ query, timing }) =>
    json(await timing.measure("db", () => listFeedback(query))),
  ),
});
