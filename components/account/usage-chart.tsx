import { useFormatter, useTranslations } from "next-intl";

export interface UsageDay {
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  used: number;
}

/**
 * Captions per UTC day as a bar chart (plain CSS). Screen readers get one summary (the chart is
 * a single image) and the values in a visually hidden table.
 */
export function UsageChart({ usage }: { usage: UsageDay[] }) {
  const t = useTranslations("account");
  const format = useFormatter();
  const dayLabel = (day: string) => format.dateTime(new Date(`${day}T00:00:00Z`), { month: "short", day: "numeric", timeZone: "UTC" });
  const max = usage.reduce((m, d) => Math.max(m, d.used), 0);
  const total = usage.reduce((sum, d) => sum + d.used, 0);
  const first = usage[0];
  const last = usage[usage.length - 1];
  if (!first || !last) return null;
  const summary = t("chartSummary", { from: dayLabel(first.day), to: dayLabel(last.day), total, max });

  return (
    <div className="usage-chart" data-testid="usage-chart">
      <div className="usage-bars" role="img" aria-label={summary}>
        {usage.map((d) => (
          <div key={d.day} className="usage-col" title={`${dayLabel(d.day)}: ${d.used}`}>
            <div className={d.used > 0 ? "usage-bar" : "usage-bar usage-bar-zero"} style={{ height: `${max > 0 ? (d.used / max) * 100 : 0}%` }}>
              {d.used > 0 ? <span className="usage-value">{d.used}</span> : null}
            </div>
          </div>
        ))}
      </div>
      <div className="usage-axis" aria-hidden="true">
        <span>{dayLabel(first.day)}</span>
        <span>{dayLabel(last.day)}</span>
      </div>
      <table className="sr-only">
        <caption>{t("chartTableCaption")}</caption>
        <thead>
          <tr>
            <th scope="col">{t("chartDay")}</th>
            <th scope="col">{t("chartCount")}</th>
          </tr>
        </thead>
        <tbody>
          {usage.map((d) => (
            <tr key={d.day}>
              <th scope="row">{dayLabel(d.day)}</th>
              <td>{d.used}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
