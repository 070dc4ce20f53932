import type { Metadata } from "next";
import { setRequestLocale } from "next-intl/server";
import { requireConsoleViewer } from "@/lib/admin/console";
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

export default async function DatabasePage({ params }: { params: Promise<{ locale: string }> }) {
  const { locale } = await params;
  setRequestLocale(locale);
  await requireConsoleViewer();
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
            <div className="table-scroll">
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">State</th>
                    <th scope="col">Connections</th>
                  </tr>
                </thead>
                <tbody>
                  {connections.byState.map((s) => (
                    <tr key={s.state}>
                      <th scope="row">{s.state}</th>
                      <td>{s.count}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        ) : null}
      </section>

      <section className="card stack" aria-labelledby="db-long" data-testid="db-long-queries">
        <h2 id="db-long">Queries running over 5 minutes</h2>
        <Unavailable check={long} />
        {long.available ? (
          <div className="table-scroll">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">PID</th>
                  <th scope="col">User</th>
                  <th scope="col">State</th>
                  <th scope="col">Running for</th>
                  <th scope="col">Query</th>
                </tr>
              </thead>
              <tbody>
                {long.items.map((q) => (
                  <tr key={q.pid}>
                    <th scope="row">{q.pid}</th>
                    <td>{q.user ?? "–"}</td>
                    <td>{q.state ?? "–"}</td>
                    <td className="nowrap">{Math.round(q.seconds / 60)} min</td>
                    <td className="break small">
                      <code>{q.query}</code>
                    </td>
                  </tr>
                ))}
                {long.items.length === 0 ? (
                  <tr>
                    <td colSpan={5} className="muted">
                      None.
                    </td>
                  </tr>
                ) : null}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>

      <section className="card stack" aria-labelledby="db-sizes" data-testid="db-table-sizes">
        <h2 id="db-sizes">Table sizes</h2>
        <Unavailable check={tableSizes} />
        {tableSizes.available ? (
          <div className="table-scroll">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Table</th>
                  <th scope="col">Total</th>
                  <th scope="col">Data</th>
                  <th scope="col">Indexes</th>
                  <th scope="col">Rows (estimate)</th>
                </tr>
              </thead>
              <tbody>
                {tableSizes.items.map((t) => (
                  <tr key={t.table}>
                    <th scope="row">{t.table}</th>
                    <td className="nowrap">{bytes(t.totalBytes)}</td>
                    <td className="nowrap">{bytes(t.tableBytes)}</td>
                    <td className="nowrap">{bytes(t.indexBytes)}</td>
                    <td>{t.rowsEstimate < 0 ? "not analysed" : Math.round(t.rowsEstimate)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>

      <section className="card stack" aria-labelledby="db-index" data-testid="db-index-usage">
        <h2 id="db-index">Index usage</h2>
        <p className="muted small">Least used first: an index never scanned since the statistics were reset costs writes and space for nothing.</p>
        <Unavailable check={indexUsage} />
        {indexUsage.available ? (
          <div className="table-scroll">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Index</th>
                  <th scope="col">Table</th>
                  <th scope="col">Scans</th>
                  <th scope="col">Size</th>
                </tr>
              </thead>
              <tbody>
                {indexUsage.items.map((i) => (
                  <tr key={i.index}>
                    <th scope="row" className="break">
                      {i.index}
                    </th>
                    <td>{i.table}</td>
                    <td>{i.scans}</td>
                    <td className="nowrap">{bytes(i.bytes)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
    </>
  );
}
