import { useFormatter, useTranslations } from "next-intl";

export interface UsageDay {
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  used: number;
}

/** The top of the value axis: the largest day rounded up to an even number, so the middle tick is whole. */
export function axisTop(max: number): number {
  if (max <= 1) return 1;
  return max % 2 === 0 ? max : max + 1;
}

/** The value axis' ticks, top first: 0, the middle (when whole) and the top. */
export function axisTicks(top: number): number[] {
  return top === 1 ? [1, 0] : [top, top / 2, 0];
}

/**
 * Captions per UTC day as a bar chart (plain CSS): a value axis with ticks, a day under each bar,
 * the count on each bar (and in its title on hover), today's column marked. No captions at all: an empty
 * state instead of fourteen empty columns. Screen readers get one summary (the chart is a single
 * image) and the values in a visually hidden table.
 */
export function UsageChart({ usage }: { usage: UsageDay[] }) {
  const t = useTranslations("account");
  const format = useFormatter();
  const dayLabel = (day: string) => format.dateTime(new Date(`${day}T00:00:00Z`), { month: "short", day: "numeric", timeZone: "UTC" });
  const dayNumber = (day: string) => String(Number(day.slice(8, 10)));
  const max = usage.reduce((m, d) => Math.max(m, d.used), 0);
  const total = usage.reduce((sum, d) => sum + d.used, 0);
  const first = usage[0];
  const last = usage[usage.length - 1];
  if (!first || !last) return null;
  if (total === 0) {
    return (
      <div className="usage-empty" data-testid="usage-chart" data-empty="true">
        <p>{t("chartEmpty")}</p>
      </div>
    );
  }

  const top = axisTop(max);
  const summary = t("chartSummary", { from: dayLabel(first.day), to: dayLabel(last.day), total, max });
  return (
    <div className="usage-chart" data-testid="usage-chart">
      <div className="usage-plot" role="img" aria-label={summary}>
        <div className="usage-y" aria-hidden="true">
          {axisTicks(top).map((tick) => (
            <span key={tick} style={{ bottom: `${(tick / top) * 100}%` }}>
              {tick}
            </span>
          ))}
        </div>
        <div className="usage-area">
          {axisTicks(top).map((tick) => (
            <span key={tick} className="usage-grid" style={{ bottom: `${(tick / top) * 100}%` }} aria-hidden="true" />
          ))}
          {usage.map((d) => {
            const today = d === last;
            return (
              <div
                key={d.day}
                className={today ? "usage-day usage-today" : "usage-day"}
                title={t("chartBar", { day: dayLabel(d.day), count: d.used })}
              >
                <div className={d.used > 0 ? "usage-fill" : "usage-fill usage-fill-zero"} style={{ height: `${(d.used / top) * 100}%` }}>
                  {d.used > 0 ? (
                    <span className="usage-count" aria-hidden="true">
                      {d.used}
                    </span>
                  ) : null}
                </div>
                <span className="usage-x" aria-hidden="true">
                  {dayNumber(d.day)}
                </span>
              </div>
            );
          })}
        </div>
      </div>
      <div className="usage-range" aria-hidden="true">
        <span>{dayLabel(first.day)}</span>
        <span className="usage-range-today">{`${t("chartToday")} · ${dayLabel(last.day)}`}</span>
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
