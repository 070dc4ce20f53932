import type { Metadata } from "next";
import { givenParams, offsetLinks, openConsolePage, type ConsolePageProps } from "@/components/admin/console-page";
import { FilterForm, InvalidFilters, TextFilter, When } from "@/components/admin/console-ui";
import { PagedTable } from "@/components/admin/data-table";
import { VerifyChain } from "@/components/admin/insights/verify-chain";
import { listAudit } from "@/lib/admin/audit";
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

export default async function AuditPage({ params, searchParams }: ConsolePageProps) {
  await openConsolePage(params);
  const given = givenParams(await searchParams, FILTER_KEYS);
  const parsed = auditQuery.safeParse({ ...given, limit: String(PAGE_SIZE) });
  const filters = parsed.success ? parsed.data : auditQuery.parse({ limit: String(PAGE_SIZE) });
  const page = await listAudit(filters);

  const linkTo = offsetLinks("/admin/audit", given);

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
        <InvalidFilters error={parsed.error} />
        <FilterForm className="stack insights-form" submit="Show">
          <div className="row">
            <TextFilter id="audit-actor" name="actor" label="Actor (email or user id)" value={given.actor} />
            <TextFilter id="audit-action" name="action" label="Action (or a prefix such as blocklist)" value={given.action} />
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
        </FilterForm>
      </section>

      <section className="card stack" aria-labelledby="audit-entries">
        <h2 id="audit-entries">Entries</h2>
        <PagedTable
          page={page}
          query={filters}
          linkTo={linkTo}
          pagerLabel="Audit log pages"
          testId="audit-table"
          className="insights-table"
          rowKey={(row) => row.id}
          empty="No entries."
          columns={[
            { header: "#", rowHeader: true, cell: (row) => row.id },
            { header: "When", className: "nowrap", cell: (row) => <When iso={row.createdAt} /> },
            { header: "Actor", className: "break", cell: (row) => row.actorEmail ?? row.actorId ?? "—" },
            { header: "Action", cell: (row) => <code>{row.action}</code> },
            { header: "Target", className: "break", cell: (row) => row.target ?? "—" },
            { header: "Before", className: "break small", cell: (row) => <code>{brief(row.before)}</code> },
            { header: "After", className: "break small", cell: (row) => <code>{brief(row.after)}</code> },
            { header: "IP", className: "nowrap", cell: (row) => row.ip ?? "—" },
          ]}
        />
      </section>

      <section className="card stack" aria-labelledby="audit-export">
        <h2 id="audit-export">Export as CSV</h2>
        <FilterForm action="/api/admin/audit.csv" className="toolbar insights-form" submit="Download CSV">
          <div className="toolbar-field">
            <label htmlFor="audit-csv-from">From (UTC)</label>
            <input id="audit-csv-from" name="from" type="date" required />
          </div>
          <div className="toolbar-field">
            <label htmlFor="audit-csv-to">Before (UTC)</label>
            <input id="audit-csv-to" name="to" type="date" required />
          </div>
        </FilterForm>
        <p className="small muted">Every entry from the first day up to (not including) the second, oldest first, with its hashes.</p>
      </section>
    </>
  );
}
