import type { Metadata } from "next";
import { setRequestLocale } from "next-intl/server";
import { BlockButton } from "@/components/admin/security/block-button";
import { Link } from "@/i18n/navigation";
import { requireConsoleViewer } from "@/lib/admin/console";
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

type SearchParams = Record<string, string | string[] | undefined>;

const FILTER_KEYS = ["type", "severity", "ip", "userId", "from", "to", "limit", "offset"] as const;
const PAGE_SIZE = 50;
const REPORT_DAY_CHOICES = [1, 7, 30, REPORT_MAX_DAYS];

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/** `2026-11-29 09:12:03 UTC` (or, `short`, `11-29 09:12 UTC`), in a <time> element. */
function When({ iso, short = false }: { iso: string; short?: boolean }) {
  const text = short ? iso.slice(5, 16) : iso.slice(0, 19);
  return (
    <time dateTime={iso} title={short ? `${iso.slice(0, 19).replace("T", " ")} UTC` : undefined}>
      {`${text.replace("T", " ")} UTC`}
    </time>
  );
}

/** The value a datetime-local input shows for an instant (UTC). */
const localValue = (date: Date | undefined) => (date ? date.toISOString().slice(0, 19) : "");

function pivot(rows: ReportRow[]) {
  const byKey = new Map<string, { day: string; type: string; counts: Record<string, number>; total: number }>();
  for (const r of rows) {
    const key = `${r.day}|${r.type}`;
    const row = byKey.get(key) ?? { day: r.day, type: r.type, counts: {}, total: 0 };
    row.counts[r.severity] = (row.counts[r.severity] ?? 0) + r.count;
    row.total += r.count;
    byKey.set(key, row);
  }
  return [...byKey.values()].sort((a, b) => (a.day === b.day ? b.total - a.total : a.day < b.day ? 1 : -1));
}

export default async function SecurityPage({ params, searchParams }: { params: Promise<{ locale: string }>; searchParams: Promise<SearchParams> }) {
  const { locale } = await params;
  setRequestLocale(locale);
  const viewer = await requireConsoleViewer();
  const isAdmin = viewer.role === "admin";
  const raw = await searchParams;

  const given: Record<string, string> = {};
  for (const key of FILTER_KEYS) {
    const value = first(raw[key]);
    if (value !== undefined && value !== "") given[key] = value;
  }
  const parsed = securityEventsQuery.safeParse({ limit: String(PAGE_SIZE), ...given });
  const filters = parsed.success ? parsed.data : securityEventsQuery.parse({ limit: String(PAGE_SIZE) });
  const daysRaw = Number(first(raw.days) ?? 7);
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
        {!parsed.success ? (
          <p className="alert" role="alert">
            Some filters were not valid and were ignored: {parsed.error.issues.map((i) => `${i.path.join(".") || "filters"}: ${i.message}`).join("; ")}
          </p>
        ) : null}
        <form method="get" className="stack security-filters">
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
            <div>
              <label htmlFor="f-ip">IP address or range</label>
              <input id="f-ip" name="ip" type="text" autoComplete="off" spellCheck={false} placeholder="203.0.113.7 or 203.0.113.0/24" defaultValue={given.ip ?? ""} />
            </div>
          </div>
          <div className="row">
            <div>
              <label htmlFor="f-user">User id</label>
              <input id="f-user" name="userId" type="text" autoComplete="off" spellCheck={false} defaultValue={given.userId ?? ""} />
            </div>
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
          <div className="actions">
            <button type="submit" className="btn btn-sm btn-primary">
              Show events
            </button>
            <Link className="btn btn-sm" href={{ pathname: "/admin/security", query: days === 7 ? {} : { days: String(days) } }}>
              Clear filters
            </Link>
          </div>
        </form>
      </section>

      <section className="card stack" aria-labelledby="sec-events" data-testid="security-events">
        <div className="section-head">
          <h2 id="sec-events">Events</h2>
          <p className="muted small" data-testid="security-events-total">
            {events.total === 0 ? "No events match." : `${pageStart}–${pageEnd} of ${events.total}, newest first`}
          </p>
        </div>
        <div className="table-scroll" tabIndex={0} role="region" aria-label="Events table">
          <table className="table security-table">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Type</th>
                <th scope="col">Severity</th>
                <th scope="col">IP</th>
                <th scope="col">User</th>
                <th scope="col">Path</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {events.items.map((e) => (
                <tr key={e.id}>
                  <td className="nowrap">
                    <When iso={e.createdAt} />
                  </td>
                  <td>{e.type}</td>
                  <td>
                    <span className={`badge severity-${e.severity}`}>{e.severity}</span>
                  </td>
                  <td className="nowrap">
                    {e.ip ? (
                      <div className="stack security-ip">
                        <Link href={linkTo({ ip: e.ip, offset: undefined })}>{e.ip}</Link>
                        {blocked.has(e.ip) ? <span className="badge">Blocked</span> : isAdmin ? <BlockButton ip={e.ip} /> : null}
                      </div>
                    ) : (
                      <span className="muted">–</span>
                    )}
                  </td>
                  <td className="wrap-word">
                    {e.userId ? <Link href={linkTo({ userId: e.userId, offset: undefined })}>{e.userEmail ?? e.userId}</Link> : <span className="muted nowrap">guest</span>}
                  </td>
                  <td className="nowrap">{e.path ?? ""}</td>
                  <td className="wrap-word small security-details" title={e.userAgent ?? undefined}>
                    {Object.keys(e.meta).length > 0 ? JSON.stringify(e.meta).slice(0, 200) : ""}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <nav className="pager" aria-label="Event pages">
          {events.offset > 0 ? (
            <Link className="btn btn-sm" href={linkTo({ offset: Math.max(0, events.offset - events.limit) || undefined })}>
              Newer
            </Link>
          ) : (
            <span />
          )}
          {pageEnd < events.total ? (
            <Link className="btn btn-sm" href={linkTo({ offset: events.offset + events.limit })}>
              Older
            </Link>
          ) : null}
        </nav>
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
        <div className="table-scroll" tabIndex={0} role="region" aria-label="Daily report table">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Day (UTC)</th>
                <th scope="col">Type</th>
                {SEVERITIES.map((s) => (
                  <th scope="col" key={s}>
                    {s}
                  </th>
                ))}
                <th scope="col">Total</th>
              </tr>
            </thead>
            <tbody>
              {pivot(report.daily).map((r) => (
                <tr key={`${r.day}|${r.type}`}>
                  <td className="nowrap">{r.day}</td>
                  <th scope="row">{r.type}</th>
                  {SEVERITIES.map((s) => (
                    <td key={s}>{r.counts[s] ?? 0}</td>
                  ))}
                  <td>{r.total}</td>
                </tr>
              ))}
              {report.daily.length === 0 ? (
                <tr>
                  <td colSpan={SEVERITIES.length + 3} className="muted">
                    No events in this window.
                  </td>
                </tr>
              ) : null}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}

type LinkTo = (changes: Record<string, string | number | undefined>) => { pathname: string; query: Record<string, string> };

function TopIps({ title, rows, isAdmin, linkTo }: { title: string; rows: TopIp[]; isAdmin: boolean; linkTo: LinkTo }) {
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label={title}>
      <table className="table">
        <caption className="security-caption">{title}</caption>
        <thead>
          <tr>
            <th scope="col">IP</th>
            <th scope="col">Events</th>
            <th scope="col">Last seen</th>
            {isAdmin ? <th scope="col">Action</th> : null}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.ip}>
              <th scope="row">
                <Link href={linkTo({ ip: r.ip, offset: undefined })}>{r.ip}</Link>
              </th>
              <td>{r.count}</td>
              <td className="nowrap">
                <When iso={r.lastSeen} short />
              </td>
              {isAdmin ? <td>{r.blockedBy ? <span className="badge">Blocked</span> : <BlockButton ip={r.ip} />}</td> : null}
            </tr>
          ))}
          {rows.length === 0 ? (
            <tr>
              <td colSpan={isAdmin ? 4 : 3} className="muted">
                None.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </div>
  );
}

function TopUsers({ title, rows, linkTo }: { title: string; rows: TopUser[]; linkTo: LinkTo }) {
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label={title}>
      <table className="table">
        <caption className="security-caption">{title}</caption>
        <thead>
          <tr>
            <th scope="col">User</th>
            <th scope="col">Events</th>
            <th scope="col">Last seen</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.userId}>
              <th scope="row" className="wrap-word">
                <Link href={linkTo({ userId: r.userId, offset: undefined })}>{r.email ?? r.userId}</Link>
              </th>
              <td>{r.count}</td>
              <td className="nowrap">
                <When iso={r.lastSeen} short />
              </td>
            </tr>
          ))}
          {rows.length === 0 ? (
            <tr>
              <td colSpan={3} className="muted">
                None.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </div>
  );
}
