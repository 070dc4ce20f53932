import { getRecordWriter } from "@/lib/events";
import { readBodyText } from "@/lib/http/body";
import { route } from "@/lib/http/route";
import { viewerWithinLimit } from "@/lib/http/viewer-request";

export const dynamic = "force-dynamic";

const MAX_REPORT_BYTES = 16 * 1024;

/** Picks the few fields worth keeping from a CSP report (legacy `csp-report` or Reporting API). */
function summarize(body: unknown): Record<string, string> {
  const first = Array.isArray(body) ? (body[0] as { body?: unknown } | undefined)?.body : (body as { "csp-report"?: unknown } | null)?.["csp-report"];
  const report = (first ?? {}) as Record<string, unknown>;
  const pick = (...keys: string[]) => {
    for (const key of keys) {
      const value = report[key];
      if (typeof value === "string") return value.slice(0, 300);
    }
    return "";
  };
  return {
    directive: pick("effectiveDirective", "effective-directive", "violated-directive"),
    blocked: pick("blockedURL", "blocked-uri"),
    document: pick("documentURL", "document-uri"),
    sample: pick("sample", "script-sample"),
  };
}

/** POST /api/csp-report — browsers report CSP violations here; each becomes a security event. */
export const POST = route("csp_report", async (ctx) => {
  await viewerWithinLimit(ctx, "api", { guestOnBadToken: true });
  let body: unknown = null;
  try {
    body = JSON.parse(await readBodyText(ctx.req, MAX_REPORT_BYTES));
  } catch {
    // An unreadable report is still worth a line: record what we can.
  }
  getRecordWriter().securityEvent({
    eventType: "csp_violation",
    severity: "warn",
    ip: ctx.ip,
    path: "/api/csp-report",
    userAgent: ctx.req.headers.get("user-agent"),
    meta: summarize(body),
  });
  return new Response(null, { status: 204 });
});
