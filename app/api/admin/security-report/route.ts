import { securityReport, securityReportQuery } from "@/lib/admin/security";
import { json, methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /** GET /api/admin/security-report?days=1..90 — counts by UTC day × type × severity, and the top IPs/users (hour, day). */
  GET: route("admin.security_report", { auth: "moderator", sameOrigin: false, limit: "api", query: securityReportQuery }, async ({ query, timing }) =>
    json(await timing.measure("db", () => securityReport(query.days))),
  ),
});
