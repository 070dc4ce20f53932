import { listAudit } from "@/lib/admin/audit";
import { auditQuery } from "@/lib/admin/tables";
import { json, methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /** GET /api/admin/audit?actor&action&from&to&limit&offset — the audit log, newest first, with the total. */
  GET: route("admin.audit", { auth: "moderator", sameOrigin: false, limit: "api", query: auditQuery }, async ({ query, timing }) => {
    const page = await timing.measure("db", () => listAudit(query));
    return json({ ...page, limit: query.limit, offset: query.offset });
  }),
});
