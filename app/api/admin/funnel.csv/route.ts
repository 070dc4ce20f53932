import { FUNNEL_CSV_COLUMNS, funnelCsvRows, funnelQuery, funnelReport } from "@/lib/admin/funnel";
import { methods, route } from "@/lib/http/route";
import { csvHeaders, toCsv } from "@/lib/util/csv";

export const dynamic = "force-dynamic";

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /** GET /api/admin/funnel.csv?days&by — the funnel report as CSV (totals, then each segment). */
  GET: route("admin.funnel_csv", { auth: "moderator", sameOrigin: false, limit: "api", query: funnelQuery }, async ({ query, timing }) => {
    const report = await timing.measure("db", () => funnelReport(query));
    const name = `funnel-${query.days}d${query.by ? `-by-${query.by}` : ""}.csv`;
    return new Response(toCsv(FUNNEL_CSV_COLUMNS, funnelCsvRows(report)), { headers: csvHeaders(name) });
  }),
});
