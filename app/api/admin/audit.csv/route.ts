import { auditRange } from "@/lib/admin/audit";
import { AUDIT_CSV_COLUMNS, auditRangeQuery } from "@/lib/admin/tables";
import { methods, route } from "@/lib/http/route";
import { csvHeaders, toCsv } from "@/lib/util/csv";

export const dynamic = "force-dynamic";

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /** GET /api/admin/audit.csv?from&to — every entry in the range (`to` exclusive), oldest first. */
  GET: route("admin.audit_csv", { auth: "moderator", sameOrigin: false, limit: "api", query: auditRangeQuery }, async ({ query, timing }) => {
    const rows = await timing.measure("db", () => auditRange(query.from, query.to));
    return new Response(toCsv(AUDIT_CSV_COLUMNS, rows.map((r) => ({ ...r }))), { headers: csvHeaders("audit-log.csv") });
  }),
});
