import type { Metadata } from "next";
import { openConsolePage, type ConsolePageProps } from "@/components/admin/console-page";
import { DataTable } from "@/components/admin/data-table";
import { alertThreshold, alertValue, utcTime } from "@/components/admin/overview/format";
import { AutoRefresh } from "@/components/admin/overview/auto-refresh";
import { readAlerts } from "@/lib/admin/alerts";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Alerts" };

const STATE_CLASS = { ok: "state-ok", pending: "state-pending", firing: "state-firing" } as const;

function forText(ms: number): string {
  return ms === 0 ? "at once" : `after ${ms / 60_000} min`;
}

/** The runbook's alert rules, evaluated now from what every instance shares. */
export default async function AlertsPage({ params }: Pick<ConsolePageProps, "params">) {
  await openConsolePage(params);
  const alerts = await readAlerts();
  const firing = alerts.filter((a) => a.state === "firing").length;
  const pending = alerts.filter((a) => a.state === "pending").length;
  return (
    <div className="stack">
      <h1>Alerts</h1>
      <AutoRefresh ms={15_000} />
      <p className="muted">
        {firing === 0 && pending === 0 ? "All rules are ok." : `${firing} firing, ${pending} pending.`} Evaluated {utcTime(new Date().toISOString(), true)};
        refreshes every 15 seconds. A rule is pending while breached for less than its window, then firing.
      </p>
      <DataTable
        testId="alerts-table"
        wrapperClassName="card"
        caption="Alert rules with their state, since when, and the current value against the threshold"
        captionClassName="sr-only"
        rows={alerts}
        rowKey={(a) => a.id}
        rowProps={(a) => ({ "data-testid": `alert-${a.id}`, "data-state": a.state })}
        columns={[
          {
            header: "Rule",
            rowHeader: true,
            cell: (a) => (
              <>
                {a.title}
                <br />
                <span className="small muted">
                  <code>{a.id}</code>
                  {a.informational ? " · informational" : ""}
                </span>
              </>
            ),
          },
          { header: "State", cell: (a) => <span className={`badge ${STATE_CLASS[a.state]}`}>{a.state}</span> },
          { header: "Since", className: "nowrap", cell: (a) => (a.since ? utcTime(a.since) : "—") },
          { header: "Value", cell: (a) => alertValue(a.value, a.unit) },
          {
            header: "Threshold",
            cell: (a) => (
              <>
                {alertThreshold(a.threshold, a.unit)}
                <br />
                <span className="small muted">fires {forText(a.forMs)}</span>
              </>
            ),
          },
        ]}
      />
    </div>
  );
}
