import type { Metadata } from "next";
import { firstParam, givenParams, openConsolePage, type ConsolePageProps } from "@/components/admin/console-page";
import { FilterForm, InvalidFilters, PagerNav, TextFilter, When } from "@/components/admin/console-ui";
import { columns, DataTable } from "@/components/admin/data-table";
import { BlockButton } from "@/components/admin/security/block-button";
import { Link } from "@/i18n/navigation";
import {
  blockedAddresses,
  KNOWN_EVENT_TYPES,
  listSecurityEvents,
  REPORT_MAX_DAYS,
  securityEventsQuery,
  securityReport,
  SEVERITIES,
  type ReportRow,
  type TopIp,
  type TopUser,
} from "@/lib/admin/security";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Security" };

const FILTER_KEYS = ["type", "severity", "ip", "userId", "from", "to", "limit", "offset"] as const;
const PAGE_SIZE = 50;
const REPORT_DAY_CHOICES = [1, 7, 30, REPORT_MAX_DAYS];

/** The value a datetime-local input shows for an instant (UTC). */
const localValue = (date: Date | undefined) => (date ? date.toISOString().slice(0, 19) : "");

type DailyRow = { day: string; type: string; counts: Record<string, number>; total: number };

function pivot(rows: ReportRow[]): DailyRow[] {
  const byKey = new Map<string, DailyRow>();
  for (const r of rows) {
    const key = `${r.day}|${r.type}`;
    const row = byKey.get(key) ?? { day: r.day, type: r.type, counts: {}, total: 0 };
    row.counts[r.severity] = (row.counts[r.severity] ?? 0) + r.count;
    row.total += r.count;
    byKey.set(key, row);
  }
  return [...byKey.values()].sort((a, b) => (a.day === b.day ? b.total - a.total : a.day < b.day ? 1 : -1));
}

export default async function SecurityPage({ params, searchParams }: ConsolePageProps) {
  const { isAdmin } = await openConsolePage(params);
  const raw = await searchParams;
  const given = givenParams(raw, FILTER_KEYS, { trim: false });
  const parsed = securityEventsQuery.safeParse({ limit: String(PAGE_SIZE), ...given });
  const filters = parsed.success ? parsed.data : securityEventsQuery.parse({ limit: String(PAGE_SIZE) });
  const daysRaw = Number(firstParam(raw.days) ?? 7);
  const days = Number.isInteger(daysRaw) && daysRaw >= 1 && daysRaw <= REPORT_MAX_DAYS ? daysRaw : 7;

  const [events, report] = await Promise.all([listSecurityEvents(filters), securityReport(days)]);
  const blocked = await blockedAddresses(events.items.map((e) => e.ip));

  /** A link to this page with these filters (and the report's window) kept. */
  const linkTo = (changes: Record<string, string | number | undefined>) => {
    const query: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...given, days: days === 7 ? undefined : String(days), ...changes })) {
      if (v !== undefined && v !== "") query[k] = String(v);
    }
    return { pathname: "/admin/security", query };
  };
  const pageStart = events.total === 0 ? 0 : events.offset + 1;
  const pageEnd = events.offset + events.items.length;

  return (
    <>
      <h1>Security</h1>

      <section className="card stack" aria-labelledby="sec-filters">
        <h2 id="sec-filters">Filter events</h2>
        <InvalidFilters error={parsed.error} />
        <FilterForm
          className="stack security-filters"
          submit="Show events"
          primary
          extra={
            <Link className="btn btn-sm" href={{ pathname: "/admin/security", query: days === 7 ? {} : { days: String(days) } }}>
              Clear filters
            </Link>
          }
        >
          <div className="row">
            <div>
              <label htmlFor="f-type">Type</label>
              <input id="f-type" name="type" type="text" list="f-type-list" autoComplete="off" defaultValue={given.type ?? ""} />
              <datalist id="f-type-list">
                {KNOWN_EVENT_TYPES.map((t) => (
                  <option key={t} value={t} />
                ))}
              </datalist>
            </div>
            <div>
              <label htmlFor="f-severity">Severity</label>
              <select id="f-severity" name="severity" defaultValue={given.severity ?? ""}>
                <option value="">Any</option>
                {SEVERITIES.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            </div>
            <TextFilter id="f-ip" name="ip" label="IP address or range" placeholder="203.0.113.7 or 203.0.113.0/24" value={given.ip} />
          </div>
          <div className="row">
            <TextFilter id="f-user" name="userId" label="User id" value={given.userId} />
            <div>
              <label htmlFor="f-from">From (UTC)</label>
              <input id="f-from" name="from" type="datetime-local" step={1} defaultValue={localValue(parsed.success ? filters.from : undefined)} />
            </div>
            <div>
              <label htmlFor="f-to">To (UTC)</label>
              <input id="f-to" name="to" type="datetime-local" step={1} defaultValue={localValue(parsed.success ? filters.to : undefined)} />
            </div>
          </div>
          {days !== 7 ? <input type="hidden" name="days" value={days} /> : null}
        </FilterForm>
      </section>

      <section className="card stack" aria-labelledby="sec-events" data-testid="security-events">
        <div className="section-head">
          <h2 id="sec-events">Events</h2>
          <p className="muted small" data-testid="security-events-total">
            {events.total === 0 ? "No events match." : `${pageStart}–${pageEnd} of ${events.total}, newest first`}
          </p>
        </div>
        <DataTable
          className="security-table"
          region="Events table"
          rows={events.items}
          rowKey={(e) => e.id}
          columns={[
            { header: "Time", className: "nowrap", cell: (e) => <When iso={e.createdAt} /> },
            { header: "Type", cell: (e) => e.type },
            { header: "Severity", cell: (e) => <span className={`badge severity-${e.severity}`}>{e.severity}</span> },
            {
              header: "IP",
              className: "nowrap",
              cell: (e) =>
                e.ip ? (
                  <div className="stack security-ip">
                    <Link href={linkTo({ ip: e.ip, offset: undefined })}>{e.ip}</Link>
                    {blocked.has(e.ip) ? <span className="badge">Blocked</span> : isAdmin ? <BlockButton ip={e.ip} /> : null}
                  </div>
                ) : (
                  <span className="muted">–</span>
                ),
            },
            {
              header: "User",
              className: "wrap-word",
              cell: (e) =>
                e.userId ? <Link href={linkTo({ userId: e.userId, offset: undefined })}>{e.userEmail ?? e.userId}</Link> : <span className="muted nowrap">guest</span>,
            },
            { header: "Path", className: "nowrap", cell: (e) => e.path ?? "" },
            {
              header: "Details",
              className: "wrap-word small security-details",
              cell: (e) => (Object.keys(e.meta).length > 0 ? JSON.stringify(e.meta).slice(0, 200) : ""),
            },
          ]}
        />
        <PagerNav
          label="Event pages"
          prev={events.offset > 0 ? { href: linkTo({ offset: Math.max(0, events.offset - events.limit) || undefined }), text: "Newer" } : undefined}
          next={pageEnd < events.total ? { href: linkTo({ offset: events.offset + events.limit }), text: "Older" } : undefined}
        />
      </section>

      <section className="card stack" aria-labelledby="sec-top">
        <h2 id="sec-top">Top offenders</h2>
        <p className="muted small">Every security event counts. Updated on each page load.</p>
        <div className="grid-2">
          <TopIps title="IPs, last hour" rows={report.top.hour.ips} isAdmin={isAdmin} linkTo={linkTo} />
          <TopIps title="IPs, last 24 hours" rows={report.top.day.ips} isAdmin={isAdmin} linkTo={linkTo} />
          <TopUsers title="Users, last hour" rows={report.top.hour.users} linkTo={linkTo} />
          <TopUsers title="Users, last 24 hours" rows={report.top.day.users} linkTo={linkTo} />
        </div>
      </section>

      <section className="card stack" aria-labelledby="sec-report">
        <div className="section-head">
          <h2 id="sec-report">Daily report</h2>
          <nav className="actions" aria-label="Report window">
            {REPORT_DAY_CHOICES.map((d) => (
              <Link key={d} className="btn btn-sm" aria-current={d === days ? "true" : undefined} href={linkTo({ days: d === 7 ? undefined : d })}>
                {d === 1 ? "Today" : `${d} days`}
              </Link>
            ))}
          </nav>
        </div>
        <p className="muted small">Events per UTC day and type, by severity, since {report.from.slice(0, 10)}.</p>
        <DataTable
          region="Daily report table"
          rows={pivot(report.daily)}
          rowKey={(r) => `${r.day}|${r.type}`}
          empty="No events in this window."
          columns={[
            { header: "Day (UTC)", className: "nowrap", cell: (r) => r.day },
            { header: "Type", rowHeader: true, cell: (r) => r.type },
            ...SEVERITIES.map((s) => ({ header: s, key: s, cell: (r: DailyRow) => r.counts[s] ?? 0 })),
            { header: "Total", cell: (r) => r.total },
          ]}
        />
      </section>
    </>
  );
}

/** A top-offenders table: captioned with its title, in a focusable region of that name. */
const titled = (title: string) => ({ region: title, caption: title, captionClassName: "security-caption" });

type LinkTo = (changes: Record<string, string | number | undefined>) => { pathname: string; query: Record<string, string> };

function TopIps({ title, rows, isAdmin, linkTo }: { title: string; rows: TopIp[]; isAdmin: boolean; linkTo: LinkTo }) {
  return (
    <DataTable
      {...titled(title)}
      rows={rows}
      rowKey={(r) => r.ip}
      empty="None."
      columns={columns<TopIp>(
        { header: "IP", rowHeader: true, cell: (r) => <Link href={linkTo({ ip: r.ip, offset: undefined })}>{r.ip}</Link> },
        { header: "Events", cell: (r) => r.count },
        { header: "Last seen", className: "nowrap", cell: (r) => <When iso={r.lastSeen} short /> },
        isAdmin && { header: "Action", cell: (r) => (r.blockedBy ? <span className="badge">Blocked</span> : <BlockButton ip={r.ip} />) },
      )}
    />
  );
}

function TopUsers({ title, rows, linkTo }: { title: string; rows: TopUser[]; linkTo: LinkTo }) {
  return (
    <DataTable
      {...titled(title)}
      rows={rows}
      rowKey={(r) => r.userId}
      empty="None."
      columns={[
        { header: "User", rowHeader: true, className: "wrap-word", cell: (r) => <Link href={linkTo({ userId: r.userId, offset: undefined })}>{r.email ?? r.userId}</Link> },
        { header: "Events", cell: (r) => r.count },
        { header: "Last seen", className: "nowrap", cell: (r) => <When iso={r.lastSeen} short /> },
      ]}
    />
  );
}
