import type { Metadata } from "next";
import { setRequestLocale } from "next-intl/server";
import { givenParams, Pager, When } from "@/components/admin/insights/table-bits";
import { VerifyChain } from "@/components/admin/insights/verify-chain";
import { listAudit } from "@/lib/admin/audit";
import { requireConsoleViewer } from "@/lib/admin/console";
import { auditQuery } from "@/lib/admin/tables";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Audit log" };

const FILTER_KEYS = ["actor", "action", "from", "to", "offset"] as const;
const PAGE_SIZE = 50;

/** A short, readable form of a before/after value. */
function brief(value: unknown): string {
  if (value === null || value === undefined) return "";
  const text = JSON.stringify(value);
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}

export default async function AuditPage({
  params,
  searchParams,
}: {
  params: Promise<{ locale: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { locale } = await params;
  setRequestLocale(locale);
  await requireConsoleViewer();
  const given = givenParams(await searchParams, FILTER_KEYS);
  const parsed = auditQuery.safeParse({ ...given, limit: String(PAGE_SIZE) });
  const filters = parsed.success ? parsed.data : auditQuery.parse({ limit: String(PAGE_SIZE) });
  const page = await listAudit(filters);

  const linkTo = (offset: number) => {
    const query: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...given, offset: offset > 0 ? String(offset) : undefined })) if (v) query[k] = v;
    return { pathname: "/admin/audit", query };
  };

  return (
    <>
      <h1>Audit log</h1>

      <section className="card stack" aria-labelledby="audit-verify">
        <h2 id="audit-verify">Hash chain</h2>
        <p className="small muted">
          Each entry&rsquo;s hash covers the previous entry&rsquo;s hash and its own content. Verifying walks the whole log and names the
          first entry that does not match.
        </p>
        <VerifyChain />
      </section>

      <section className="card stack" aria-labelledby="audit-filters">
        <h2 id="audit-filters">Filter</h2>
        {!parsed.success ? (
          <p className="alert" role="alert">
            Some filters were not valid and were ignored:{" "}
            {parsed.error.issues.map((i) => `${i.path.join(".") || "filters"}: ${i.message}`).join("; ")}
          </p>
        ) : null}
        <form method="get" className="stack insights-form">
          <div className="row">
            <div>
              <label htmlFor="audit-actor">Actor (email or user id)</label>
              <input id="audit-actor" name="actor" type="text" autoComplete="off" spellCheck={false} defaultValue={given.actor ?? ""} />
            </div>
            <div>
              <label htmlFor="audit-action">Action (or a prefix such as blocklist)</label>
              <input id="audit-action" name="action" type="text" autoComplete="off" spellCheck={false} defaultValue={given.action ?? ""} />
            </div>
          </div>
          <div className="row">
            <div>
              <label htmlFor="audit-from">From (UTC)</label>
              <input id="audit-from" name="from" type="date" defaultValue={given.from?.slice(0, 10) ?? ""} />
            </div>
            <div>
              <label htmlFor="audit-to">Before (UTC)</label>
              <input id="audit-to" name="to" type="date" defaultValue={given.to?.slice(0, 10) ?? ""} />
            </div>
          </div>
          <div className="actions">
            <button type="submit" className="btn btn-sm">
              Show
            </button>
          </div>
        </form>
      </section>

      <section className="card stack" aria-labelledby="audit-entries">
        <h2 id="audit-entries">Entries</h2>
        <div className="table-scroll">
          <table className="table insights-table" data-testid="audit-table">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">When</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Before</th>
                <th scope="col">After</th>
                <th scope="col">IP</th>
              </tr>
            </thead>
            <tbody>
              {page.items.length === 0 ? (
                <tr>
                  <td colSpan={8} className="muted">
                    No entries.
                  </td>
                </tr>
              ) : (
                page.items.map((row) => (
                  <tr key={row.id}>
                    <th scope="row">{row.id}</th>
                    <td className="nowrap">
                      <When iso={row.createdAt} />
                    </td>
                    <td className="break">{row.actorEmail ?? row.actorId ?? "—"}</td>
                    <td>
                      <code>{row.action}</code>
                    </td>
                    <td className="break">{row.target ?? "—"}</td>
                    <td className="break small">
                      <code>{brief(row.before)}</code>
                    </td>
                    <td className="break small">
                      <code>{brief(row.after)}</code>
                    </td>
                    <td className="nowrap">{row.ip ?? "—"}</td>
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </div>
        <Pager total={page.total} offset={filters.offset} limit={PAGE_SIZE} shown={page.items.length} linkTo={linkTo} label="Audit log pages" />
      </section>

      <section className="card stack" aria-labelledby="audit-export">
        <h2 id="audit-export">Export as CSV</h2>
        <form method="get" action="/api/admin/audit.csv" className="toolbar insights-form">
          <div className="toolbar-field">
            <label htmlFor="audit-csv-from">From (UTC)</label>
            <input id="audit-csv-from" name="from" type="date" required />
          </div>
          <div className="toolbar-field">
            <label htmlFor="audit-csv-to">Before (UTC)</label>
            <input id="audit-csv-to" name="to" type="date" required />
          </div>
          <div className="actions">
            <button type="submit" className="btn btn-sm">
              Download CSV
            </button>
          </div>
        </form>
        <p className="small muted">Every entry from the first day up to (not including) the second, oldest first, with its hashes.</p>
      </section>
    </>
  );
}
