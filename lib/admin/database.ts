import "server-only";
import { getDb, type Db } from "@/lib/db";

/**
 * The runbook's database checks as data (PRODUCT §7 "database"): active connections, queries
 * running over 5 minutes, table sizes and index usage for schema `litstatus`. Each check stands
 * alone: one that cannot run answers `{ available: false, reason }` instead of failing the rest.
 * The embedded database (PGlite) is one in-process connection with no other sessions, so the
 * two session checks are marked unavailable there; sizes and index usage are answered.
 */

export const LONG_QUERY_SECONDS = 300;
const EMBEDDED_REASON = "embedded database (PGlite): a single in-process connection, no server sessions to inspect";

export type Check<T> = ({ available: true } & T) | { available: false; reason: string };

export interface ConnectionsCheck {
  total: number;
  max: number | null;
  byState: { state: string; count: number }[];
}

export interface LongQuery {
  pid: number;
  user: string | null;
  state: string | null;
  startedAt: string;
  seconds: number;
  /** The statement's first 200 characters. */
  query: string;
}

export interface TableSize {
  table: string;
  totalBytes: number;
  tableBytes: number;
  indexBytes: number;
  /** The planner's estimate (-1 or 0 before the first ANALYZE). */
  rowsEstimate: number;
}

export interface IndexUsage {
  table: string;
  index: string;
  scans: number;
  bytes: number;
}

export interface DatabaseReport {
  kind: Db["kind"];
  checkedAt: string;
  connections: Check<ConnectionsCheck>;
  longRunningQueries: Check<{ thresholdSeconds: number; items: LongQuery[] }>;
  tableSizes: Check<{ items: TableSize[] }>;
  indexUsage: Check<{ items: IndexUsage[] }>;
}

async function check<T>(run: () => Promise<T>): Promise<Check<T>> {
  try {
    return { available: true, ...(await run()) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { available: false, reason: `check failed: ${message.slice(0, 200)}` };
  }
}

const unavailable = (reason: string) => Promise.resolve({ available: false as const, reason });

async function connections(db: Db): Promise<ConnectionsCheck> {
  const rows = await db.query<{ state: string; count: number }>(
    `select coalesce(state, 'unknown') as state, count(*)::int as count
       from pg_stat_activity where datname = current_database() and backend_type = 'client backend'
      group by 1 order by 2 desc`,
  );
  const [max] = await db.query<{ max: number }>(`select current_setting('max_connections')::int as max`);
  return { total: rows.reduce((n, r) => n + r.count, 0), max: max?.max ?? null, byState: rows };
}

async function longQueries(db: Db): Promise<{ thresholdSeconds: number; items: LongQuery[] }> {
  const rows = await db.query<{ pid: number; user: string | null; state: string | null; startedAt: string | Date; seconds: number; query: string }>(
    `select pid, usename as "user", state, query_start as "startedAt",
            extract(epoch from now() - query_start)::float8 as seconds, left(query, 200) as query
       from pg_stat_activity
      where datname = current_database() and state <> 'idle' and pid <> pg_backend_pid()
        and query_start < now() - make_interval(secs => $1)
      order by query_start`,
    [LONG_QUERY_SECONDS],
  );
  return {
    thresholdSeconds: LONG_QUERY_SECONDS,
    items: rows.map((r) => ({ ...r, startedAt: new Date(r.startedAt).toISOString(), seconds: Math.round(r.seconds) })),
  };
}

async function tableSizes(db: Db): Promise<{ items: TableSize[] }> {
  const items = await db.query<TableSize>(
    `select c.relname as "table",
            pg_total_relation_size(c.oid)::float8 as "totalBytes",
            pg_relation_size(c.oid)::float8 as "tableBytes",
            pg_indexes_size(c.oid)::float8 as "indexBytes",
            c.reltuples::float8 as "rowsEstimate"
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'litstatus' and c.relkind in ('r', 'p')
      order by pg_total_relation_size(c.oid) desc, c.relname`,
  );
  return { items };
}

async function indexUsage(db: Db): Promise<{ items: IndexUsage[] }> {
  const items = await db.query<IndexUsage>(
    `select relname as "table", indexrelname as "index", idx_scan::float8 as scans,
            pg_relation_size(indexrelid)::float8 as bytes
       from pg_stat_user_indexes where schemaname = 'litstatus'
      order by idx_scan, pg_relation_size(indexrelid) desc, indexrelname`,
  );
  return { items };
}

export async function databaseReport(): Promise<DatabaseReport> {
  const db = await getDb();
  const embedded = db.kind === "pglite";
  // One at a time: the embedded database runs one statement at a time anyway, and a pool of one
  // (tests, small deployments) must not be monopolised by a console page.
  const conn = embedded ? await unavailable(EMBEDDED_REASON) : await check(() => connections(db));
  const long = embedded ? await unavailable(EMBEDDED_REASON) : await check(() => longQueries(db));
  const sizes = await check(() => tableSizes(db));
  const usage = await check(() => indexUsage(db));
  return { kind: db.kind, checkedAt: new Date().toISOString(), connections: conn, longRunningQueries: long, tableSizes: sizes, indexUsage: usage };
}
