import type { Metadata } from "next";
import { givenParams, openConsolePage, type ConsolePageProps } from "@/components/admin/console-page";
import { FilterForm } from "@/components/admin/console-ui";
import { DataTable } from "@/components/admin/data-table";
import { FunnelChart } from "@/components/admin/insights/funnel-chart";
import { FUNNEL_BREAKDOWNS, FUNNEL_WINDOWS, funnelQuery, funnelReport, type FunnelConversion, type FunnelEventStats, type FunnelSegment } from "@/lib/admin/funnel";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Funnel" };

const BREAKDOWN_LABEL = { source: "Source", lang: "Language", variant: "Variant" } as const;
/** The stages the breakdown table shows side by side. */
const KEY_STAGES = ["page_view", "generate_click", "generate_success"] as const;

function percent(rate: number | null): string {
  return rate === null ? "—" : `${(rate * 100).toFixed(rate * 100 >= 10 ? 1 : 2)} %`;
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;

function countOf(events: FunnelEventStats[], event: string): number {
  return events.find((e) => e.event === event)?.count ?? 0;
}

function ConversionText({ c }: { c: FunnelConversion }) {
  return (
    <>
      <strong>{percent(c.rate)}</strong>{" "}
      <span className="muted">
        ({c.converted} of {plural(c.visitors, "session")})
      </span>
    </>
  );
}

export default async function FunnelPage({ params, searchParams }: ConsolePageProps) {
  await openConsolePage(params);
  const given = givenParams(await searchParams, ["days", "by"]);
  const parsed = funnelQuery.safeParse(given);
  const query = parsed.success ? parsed.data : funnelQuery.parse({});
  const report = await funnelReport(query);

  const csvQuery = new URLSearchParams({ days: String(report.days), ...(report.by ? { by: report.by } : {}) });
  const top = report.events.find((e) => e.event === "page_view");
  const summary =
    `Funnel over the last ${report.days} ${report.days === 1 ? "day" : "days"}: ` +
    report.events
      .filter((e) => e.count > 0)
      .map((e) => `${e.event} ${plural(e.count, "event")}, ${plural(e.uniqueSessions, "session")}, ${plural(e.uniqueUsers, "user")}`)
      .join("; ") +
    (report.events.some((e) => e.count > 0) ? "." : "no events.");

  return (
    <>
      <h1>Funnel</h1>

      <section className="card stack" aria-labelledby="funnel-window">
        <h2 id="funnel-window">Window and breakdown</h2>
        {!parsed.success ? (
          <p className="alert" role="alert">
            The window or breakdown was not valid; showing the last 7 days without a breakdown.
          </p>
        ) : null}
        <FilterForm
          className="toolbar"
          submit="Show"
          extra={
            <a className="btn btn-sm" href={`/api/admin/funnel.csv?${csvQuery.toString()}`} download>
              Download CSV
            </a>
          }
        >
          <div className="toolbar-field">
            <label htmlFor="funnel-days">Window</label>
            <select id="funnel-days" name="days" defaultValue={String(report.days)}>
              {FUNNEL_WINDOWS.map((d) => (
                <option key={d} value={d}>
                  Last {d} {d === 1 ? "day" : "days"}
                </option>
              ))}
            </select>
          </div>
          <div className="toolbar-field">
            <label htmlFor="funnel-by">Breakdown</label>
            <select id="funnel-by" name="by" defaultValue={report.by ?? ""}>
              <option value="">None</option>
              {FUNNEL_BREAKDOWNS.map((b) => (
                <option key={b} value={b}>
                  {BREAKDOWN_LABEL[b]}
                </option>
              ))}
            </select>
          </div>
        </FilterForm>
        <p className="small muted">
          From <time dateTime={report.since}>{report.since.slice(0, 16).replace("T", " ")} UTC</time> to now. Conversion to{" "}
          <code>generate_success</code> is the share of browser sessions (guests and signed-in users) with a <code>page_view</code> in the
          window that also had a <code>generate_success</code> in it (docs/RUNBOOK.md, &ldquo;Funnel conversion&rdquo;). A session-less
          success from older data counts for the signed-in user&rsquo;s sessions only.
        </p>
      </section>

      <section className="card stack" aria-labelledby="funnel-conversion">
        <h2 id="funnel-conversion">Conversion to generate_success</h2>
        <p className="big-number" data-testid="funnel-conversion">
          <ConversionText c={report.conversion} />
        </p>
        <p className="small muted">
          {top
            ? `${plural(top.uniqueSessions, "session")} and ${plural(top.uniqueUsers, "signed-in user")} viewed a page in the window.`
            : null}
        </p>
      </section>

      <section className="card stack" aria-labelledby="funnel-chart-title">
        <h2 id="funnel-chart-title">Funnel chart</h2>
        <FunnelChart stages={report.events} summary={summary} />
      </section>

      <section className="card stack" aria-labelledby="funnel-events">
        <h2 id="funnel-events">Per event</h2>
        <DataTable
          testId="funnel-table"
          rows={report.events}
          rowKey={(e) => e.event}
          columns={[
            { header: "Event", rowHeader: true, cell: (e) => <code>{e.event}</code> },
            { header: "Events", cell: (e) => e.count },
            { header: "Unique users", cell: (e) => e.uniqueUsers },
            { header: "Unique sessions", cell: (e) => e.uniqueSessions },
          ]}
        />
        <p className="small muted">
          <code>generate_success</code> is recorded by the server without a session, so its unique sessions are always 0.
        </p>
      </section>

      {report.breakdown && report.by ? (
        <section className="card stack" aria-labelledby="funnel-breakdown">
          <h2 id="funnel-breakdown">By {BREAKDOWN_LABEL[report.by].toLowerCase()}</h2>
          {report.breakdown.length === 0 ? (
            <p className="muted">No events in this window.</p>
          ) : (
            <DataTable
              testId="funnel-breakdown-table"
              rows={report.breakdown}
              rowKey={(s) => s.key ?? "(none)"}
              columns={[
                { header: BREAKDOWN_LABEL[report.by], key: "key", rowHeader: true, className: "break", cell: (s) => s.key ?? <span className="muted">(none)</span> },
                ...KEY_STAGES.map((stage) => ({ header: <code>{stage}</code>, key: stage, cell: (s: FunnelSegment) => countOf(s.events, stage) })),
                { header: "Conversion", cell: (s) => <ConversionText c={s.conversion} /> },
              ]}
            />
          )}
          <p className="small muted">
            Source is the <code>utm_source</code> of the session&rsquo;s landing page. Each event is counted under its own value; a session whose page views fall under two values counts as a visitor of both. The
            CSV has every event per value.
          </p>
        </section>
      ) : null}
    </>
  );
}
