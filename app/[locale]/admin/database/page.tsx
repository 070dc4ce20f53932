import type { Metadata } from "next";
import { openConsolePage, type ConsolePageProps } from "@/components/admin/console-page";
import { DataTable } from "@/components/admin/data-table";
import { databaseReport, type Check } from "@/lib/admin/database";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Database" };

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function Unavailable({ check }: { check: Check<object> }) {
  if (check.available) return null;
  return (
    <p className="banner" data-testid="check-unavailable">
      Not available: {check.reason}.
    </p>
  );
}

export default async function DatabasePage({ params }: Pick<ConsolePageProps, "params">) {
  await openConsolePage(params);
  const report = await databaseReport();
  const { connections, longRunningQueries: long, tableSizes, indexUsage } = report;

  return (
    <>
      <h1>Database</h1>
      <p className="muted">
        The runbook&apos;s checks for schema <code>litstatus</code>, read now ({report.kind === "pglite" ? "embedded PGlite" : "PostgreSQL"}).
      </p>
      {report.kind === "pglite" ? (
        <p className="banner banner-warn" role="note">
          This is the embedded database (PGlite): one in-process connection and no server sessions, so connections and long-running queries
          cannot be inspected. Table sizes and index usage are shown.
        </p>
      ) : null}

      <section className="card stack" aria-labelledby="db-conn" data-testid="db-connections">
        <h2 id="db-conn">Active connections</h2>
        <Unavailable check={connections} />
        {connections.available ? (
          <>
            <p className="big-number">
              {connections.total}
              {connections.max !== null ? <span className="muted small"> of {connections.max} allowed</span> : null}
            </p>
            <DataTable
              rows={connections.byState}
              rowKey={(s) => s.state}
              columns={[
                { header: "State", rowHeader: true, cell: (s) => s.state },
                { header: "Connections", cell: (s) => s.count },
              ]}
            />
          </>
        ) : null}
      </section>

      <section className="card stack" aria-labelledby="db-long" data-testid="db-long-queries">
        <h2 id="db-long">Queries running over 5 minutes</h2>
        <Unavailable check={long} />
        {long.available ? (
          <DataTable
            rows={long.items}
            rowKey={(q) => q.pid}
            empty="None."
            columns={[
              { header: "PID", rowHeader: true, cell: (q) => q.pid },
              { header: "User", cell: (q) => q.user ?? "–" },
              { header: "State", cell: (q) => q.state ?? "–" },
              { header: "Running for", className: "nowrap", cell: (q) => `${Math.round(q.seconds / 60)} min` },
              { header: "Query", className: "break small", cell: (q) => <code>{q.query}</code> },
            ]}
          />
        ) : null}
      </section>

      <section className="card stack" aria-labelledby="db-sizes" data-testid="db-table-sizes">
        <h2 id="db-sizes">Table sizes</h2>
        <Unavailable check={tableSizes} />
        {tableSizes.available ? (
          <DataTable
            rows={tableSizes.items}
            rowKey={(t) => t.table}
            columns={[
              { header: "Table", rowHeader: true, cell: (t) => t.table },
              { header: "Total", className: "nowrap", cell: (t) => bytes(t.totalBytes) },
              { header: "Data", className: "nowrap", cell: (t) => bytes(t.tableBytes) },
              { header: "Indexes", className: "nowrap", cell: (t) => bytes(t.indexBytes) },
              { header: "Rows (estimate)", cell: (t) => (t.rowsEstimate < 0 ? "not analysed" : Math.round(t.rowsEstimate)) },
            ]}
          />
        ) : null}
      </section>

      <section className="card stack" aria-labelledby="db-index" data-testid="db-index-usage">
        <h2 id="db-index">Index usage</h2>
        <p className="muted small">Least used first: an index never scanned since the statistics were reset costs writes and space for nothing.</p>
        <Unavailable check={indexUsage} />
        {indexUsage.available ? (
          <DataTable
            rows={indexUsage.items}
            rowKey={(i) => i.index}
            columns={[
              { header: "Index", rowHeader: true, className: "break", cell: (i) => i.index },
              { header: "Table", cell: (i) => i.table },
              { header: "Scans", cell: (i) => i.scans },
              { header: "Size", className: "nowrap", cell: (i) => bytes(i.bytes) },
            ]}
          />
        ) : null}
      </section>
    </>
  );
}
