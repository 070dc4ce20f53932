import { listSecurityEvents, securityEventsQuery } from "@/lib/admin/security";
import { json, methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /** GET /api/admin/security-events?type&severity&ip&userId&from&to&limit&offset — newest first, with the total. */
  GET: route("admin.security_events", { auth: "moderator", sameOrigin: false, limit: "api", query: securityEventsQuery }, async ({ query, timing }) =>
    json(await timing.measure("db", () => listSecurityEvents(query))),
  ),
});
