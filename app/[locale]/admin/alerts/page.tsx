import type { Metadata } from "next";
import { setRequestLocale } from "next-intl/server";
import { alertThreshold, alertValue, utcTime } from "@/components/admin/overview/format";
import { AutoRefresh } from "@/components/admin/overview/auto-refresh";
import { readAlerts } from "@/lib/admin/alerts";
import { requireConsoleViewer } from "@/lib/admin/console";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Alerts" };

const STATE_CLASS = { ok: "state-ok", pending: "state-pending", firing: "state-firing" } as const;

function forText(ms: number): string {
  return ms === 0 ? "at once" : `after ${ms / 60_000} min`;
}

/** The runbook's alert rules, evaluated now from what every instance shares. */
export default async function AlertsPage({ params }: { params: Promise<{ locale: string }> }) {
  const { locale } = await params;
  setRequestLocale(locale);
  await requireConsoleViewer();
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
      <div className="card table-scroll">
        <table className="table" data-testid="alerts-table">
          <caption className="sr-only">Alert rules with their state, since when, and the current value against the threshold</caption>
          <thead>
            <tr>
              <th scope="col">Rule</th>
              <th scope="col">State</th>
              <th scope="col">Since</th>
              <th scope="col">Value</th>
              <th scope="col">Threshold</th>
            </tr>
          </thead>
          <tbody>
            {alerts.map((a) => (
              <tr key={a.id} data-testid={`alert-${a.id}`} data-state={a.state}>
                <th scope="row">
                  {a.title}
                  <br />
                  <span className="small muted">
                    <code>{a.id}</code>
                    {a.informational ? " · informational" : ""}
                  </span>
                </th>
                <td>
                  <span className={`badge ${STATE_CLASS[a.state]}`}>{a.state}</span>
                </td>
                <td className="nowrap">{a.since ? utcTime(a.since) : "—"}</td>
                <td>{alertValue(a.value, a.unit)}</td>
                <td>
                  {alertThreshold(a.threshold, a.unit)}
                  <br />
                  <span className="small muted">fires {forText(a.forMs)}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
