import { getRecordWriter } from "@/lib/events";
import { readBodyText } from "@/lib/http/body";
import { methods, route, type BodyParser } from "@/lib/http/route";

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

/** Any media type (browsers send application/csp-report or application/reports+json); unreadable is null. */
const reportBody: BodyParser<unknown> = async (req) => {
  const text = await readBodyText(req, MAX_REPORT_BYTES);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // An unreadable report is still worth a line: record what we can.
    return null;
  }
};

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /**
   * POST /api/csp-report — browsers report CSP violations here; each becomes a security event.
   * Reports come without the page's cookies' guarantees or an Origin we can rely on, so no
   * same-origin check; a stale session counts as a guest.
   */
  POST: route(
    "csp_report",
    { auth: "guest", invalidSession: "guest", sameOrigin: false, limit: "api", body: reportBody },
    async ({ req, ip, viewer, body }) => {
      getRecordWriter().securityEvent({
        eventType: "csp_violation",
        severity: "warn",
        ip,
        userId: viewer.kind === "user" ? viewer.id : null,
        path: "/api/csp-report",
        userAgent: req.headers.get("user-agent"),
        meta: summarize(body),
      });
      return new Response(null, { status: 204 });
    },
  ),
});
