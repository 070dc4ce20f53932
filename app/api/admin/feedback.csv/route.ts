import { allFeedback, feedbackCsvRows, FEEDBACK_CSV_COLUMNS, noQuery } from "@/lib/admin/tables";
import { methods, route } from "@/lib/http/route";
import { csvHeaders, toCsv } from "@/lib/util/csv";

export const dynamic = "force-dynamic";

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /** GET /api/admin/feedback.csv — every row, newest first. */
  GET: route("admin.feedback_csv", { auth: "moderator", sameOrigin: false, limit: "api", query: noQuery }, async ({ timing }) => {
    const rows = await timing.measure("db", () => allFeedback());
    return new Response(toCsv(FEEDBACK_CSV_COLUMNS, feedbackCsvRows(rows)), { headers: csvHeaders("feedback.csv") });
  }),
});
