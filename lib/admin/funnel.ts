import "server-only";
import { z } from "zod";
import { getDb } from "@/lib/db";

/**
 * The console's funnel (PRODUCT §7, issue 9 §4): per event, over a window of 1, 7, 30 or 180
 * days, the number of events, distinct users and distinct sessions, optionally broken down by
 * `utm_source`, `lang` or `variant`; and the conversion to `generate_success` exactly as
 * docs/RUNBOOK.md "Funnel conversion" defines it. Everything is aggregated in SQL: the answer
 * has one row per (event, segment), whatever the number of events.
 *
 * Conversion is measured per browser session: the page sends its tab's funnel session id with
 * every event and, as `X-Session-Id`, with POST /api/generate, so the server records
 * `generate_success` (lib/generation/records.ts) in that session, guests included. A
 * session-less success (older rows, or a request without the header) still counts, as before,
 * for a signed-in user: for each session in which that user viewed a page in the window.
 */

export const FUNNEL_WINDOWS = [1, 7, 30, 180] as const;
export type FunnelWindow = (typeof FUNNEL_WINDOWS)[number];
export const FUNNEL_BREAKDOWNS = ["source", "lang", "variant"] as const;
export type FunnelBreakdown = (typeof FUNNEL_BREAKDOWNS)[number];

/** The column each breakdown reads (a fixed map: never user text in SQL). */
const BREAKDOWN_COLUMN: Record<FunnelBreakdown, string> = { source: "utm_source", lang: "lang", variant: "variant" };

/** Funnel stages in the order a visitor meets them; any other event name follows, alphabetically. */
export const FUNNEL_STAGES = [
  "page_view",
  "generate_click",
  "generate_success",
  "copy_caption",
  "copy_all",
  "feedback_up",
  "feedback_down",
  "wish_submit",
  "signup",
  "upgrade_click",
] as const;

export const funnelQuery = z.strictObject({
  days: z.coerce
    .number()
    .int()
    .refine((d): d is FunnelWindow => (FUNNEL_WINDOWS as readonly number[]).includes(d), "days is 1, 7, 30 or 180")
    .default(7),
  by: z.enum(FUNNEL_BREAKDOWNS).optional(),
});
export type FunnelQuery = z.infer<typeof funnelQuery>;

export interface FunnelEventStats {
  event: string;
  count: number;
  uniqueUsers: number;
  uniqueSessions: number;
}

export interface FunnelConversion {
  from: "page_view";
  to: "generate_success";
  /** Browser sessions with a `page_view` in the window (guests and signed-in users alike). */
  visitors: number;
  /**
   * Of those, the sessions with a `generate_success` in the window: one recorded in the session,
   * or a session-less one of a user who viewed a page in it.
   */
  converted: number;
  /** converted / visitors, rounded to 4 decimals; null when there were no visitors. */
  rate: number | null;
}

export interface FunnelSegment {
  /** The breakdown's value (`utm_source`, `lang` or `variant`); null when the event had none. */
  key: string | null;
  events: FunnelEventStats[];
  conversion: FunnelConversion;
}

export interface FunnelReport {
  days: FunnelWindow;
  by: FunnelBreakdown | null;
  /** The window's start (the end is `generatedAt`). */
  since: string;
  generatedAt: string;
  events: FunnelEventStats[];
  conversion: FunnelConversion;
  /** Present when `by` is given: one segment per value, the most visitors first. */
  breakdown?: FunnelSegment[];
}

interface StatsRow {
  event: string;
  key?: string | null;
  count: number;
  uniqueUsers: number;
  uniqueSessions: number;
}

interface ConversionRow {
  key?: string | null;
  visitors: number;
  converted: number;
  rate: string | number | null;
}

function stageRank(event: string): number {
  const i = (FUNNEL_STAGES as readonly string[]).indexOf(event);
  return i === -1 ? FUNNEL_STAGES.length : i;
}

/** Known stages always appear (zeros included, so the chart keeps its shape); others as found. */
function orderedStats(rows: StatsRow[]): FunnelEventStats[] {
  const byEvent = new Map(rows.map((r) => [r.event, r]));
  const names = new Set<string>([...FUNNEL_STAGES, ...rows.map((r) => r.event)]);
  return [...names]
    .sort((a, b) => stageRank(a) - stageRank(b) || (a < b ? -1 : a > b ? 1 : 0))
    .map((event) => {
      const r = byEvent.get(event);
      return { event, count: r?.count ?? 0, uniqueUsers: r?.uniqueUsers ?? 0, uniqueSessions: r?.uniqueSessions ?? 0 };
    });
}

function conversionOf(row: ConversionRow | undefined): FunnelConversion {
  const visitors = row?.visitors ?? 0;
  const converted = row?.converted ?? 0;
  return {
    from: "page_view",
    to: "generate_success",
    visitors,
    converted,
    rate: row?.rate === null || row?.rate === undefined ? null : Number(row.rate),
  };
}

/**
 * The conversion query of docs/RUNBOOK.md "Funnel conversion", with the window as `$1` (days)
 * and, for a breakdown, the segment column of the session's page views. Kept in step with the
 * runbook by a test that runs the runbook's text and compares. `union` (not `union all`) keeps
 * `converted` one row per session, so the left join counts each visitor once.
 */
function conversionSql(column: string | null): string {
  const key = column ? `f.${column}` : "null::text";
  return `with params as (
      select now() - make_interval(days => $1::int) as since
    ),
    visitors as (
      select distinct f.session_id, ${key} as key
      from litstatus.funnel_events f, params p
      where f.event = 'page_view' and f.session_id is not null and f.created_at >= p.since
    ),
    converted as (
      select f.session_id
      from litstatus.funnel_events f, params p
      where f.event = 'generate_success' and f.session_id is not null and f.created_at >= p.since
      union
      select f.session_id
      from litstatus.funnel_events f, litstatus.funnel_events s, params p
      where f.event = 'page_view' and f.session_id is not null and f.created_at >= p.since
        and s.event = 'generate_success' and s.session_id is null and s.user_id = f.user_id and s.created_at >= p.since
    )
    select v.key,
           count(*)::int as visitors,
           count(c.session_id)::int as converted,
           round(count(c.session_id)::numeric / nullif(count(*), 0), 4) as rate
    from visitors v
    left join converted c on c.session_id = v.session_id
    group by v.key`;
}

const STATS_COLUMNS = `event, count(*)::int as count, count(distinct user_id)::int as "uniqueUsers",
  count(distinct session_id)::int as "uniqueSessions"`;

/** The funnel over the last `days` days, optionally broken down. */
export async function funnelReport({ days, by }: FunnelQuery): Promise<FunnelReport> {
  const db = await getDb();
  const window = `created_at >= now() - make_interval(days => $1::int)`;
  const column = by ? BREAKDOWN_COLUMN[by] : null;
  const [[clock], totals, [overall], segmentStats, segmentConversion] = await Promise.all([
    db.query<{ since: string | Date; now: string | Date }>(`select now() - make_interval(days => $1::int) as since, now() as now`, [days]),
    db.query<StatsRow>(`select ${STATS_COLUMNS} from litstatus.funnel_events where ${window} group by event`, [days]),
    db.query<ConversionRow>(conversionSql(null), [days]),
    column
      ? db.query<StatsRow>(
          `select ${column} as key, ${STATS_COLUMNS} from litstatus.funnel_events where ${window} group by ${column}, event`,
          [days],
        )
      : Promise.resolve([] as StatsRow[]),
    column ? db.query<ConversionRow>(conversionSql(column), [days]) : Promise.resolve([] as ConversionRow[]),
  ]);

  const report: FunnelReport = {
    days,
    by: by ?? null,
    since: new Date(clock!.since).toISOString(),
    generatedAt: new Date(clock!.now).toISOString(),
    events: orderedStats(totals),
    conversion: conversionOf(overall),
  };
  if (column) {
    const keys = new Map<string | null, { stats: StatsRow[]; conversion?: ConversionRow }>();
    const slot = (key: string | null | undefined) => {
      const k = key ?? null;
      let s = keys.get(k);
      if (!s) keys.set(k, (s = { stats: [] }));
      return s;
    };
    for (const row of segmentStats) slot(row.key).stats.push(row);
    for (const row of segmentConversion) slot(row.key).conversion = row;
    report.breakdown = [...keys.entries()]
      .map(([key, s]) => ({ key, events: orderedStats(s.stats), conversion: conversionOf(s.conversion) }))
      .sort(
        (a, b) =>
          b.conversion.visitors - a.conversion.visitors ||
          (b.events[0]?.count ?? 0) - (a.events[0]?.count ?? 0) ||
          (a.key === null ? 1 : b.key === null ? -1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
      );
  }
  return report;
}

export const FUNNEL_CSV_COLUMNS = [
  "segment",
  "event",
  "count",
  "uniqueUsers",
  "uniqueSessions",
  "conversionVisitors",
  "conversionConverted",
  "conversionRate",
] as const;
export type FunnelCsvRow = Record<(typeof FUNNEL_CSV_COLUMNS)[number], string | number | null>;

/**
 * The report as CSV rows: the totals (segment `all`) and then each segment (`by=value`, `(none)`
 * for a missing value), one row per event; the segment's conversion repeats on each of its rows.
 */
export function funnelCsvRows(report: FunnelReport): FunnelCsvRow[] {
  const rows = (segment: string, events: FunnelEventStats[], c: FunnelConversion): FunnelCsvRow[] =>
    events.map((e) => ({
      segment,
      event: e.event,
      count: e.count,
      uniqueUsers: e.uniqueUsers,
      uniqueSessions: e.uniqueSessions,
      conversionVisitors: c.visitors,
      conversionConverted: c.converted,
      conversionRate: c.rate,
    }));
  const out = rows("all", report.events, report.conversion);
  for (const s of report.breakdown ?? []) out.push(...rows(`${report.by}=${s.key ?? "(none)"}`, s.events, s.conversion));
  return out;
}
