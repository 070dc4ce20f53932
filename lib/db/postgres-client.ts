import "server-only";
import postgres from "postgres";
import { countDbRoundTrip } from "@/lib/observability/request-stats";
import type { Db, Queryable, SqlParam } from "./types";

type Sql = postgres.Sql | postgres.TransactionSql;

function queryable(sql: Sql): Queryable {
  return {
    async query<Row extends object>(text: string, params: readonly SqlParam[] = []) {
      countDbRoundTrip();
      const rows = await sql.unsafe(text, params as postgres.ParameterOrJSON<never>[]);
      return rows as unknown as Row[];
    },
  };
}

/** The longest wait, in seconds, between attempts to reconnect to a server that went away. */
export const RECONNECT_BACKOFF_MAX_SECONDS = 1;

/**
 * Seconds postgres.js waits before its next connection attempt after `retries` failed ones (reset
 * by a successful connect). Queries queue on the connection meanwhile. postgres.js's own default
 * grows as 3^retries / 100 up to 20 s, so after a few seconds of an outage every query waited up
 * to 20 s, instead of failing fast (503 busy), and kept waiting that long after the database was
 * back (docs/RELIABILITY.md, scenario 1). Doubling from 50 ms, capped at 1 s, with jitter: one
 * attempt per connection per second at most, which costs a recovering server nothing.
 */
export function reconnectBackoffSeconds(retries: number): number {
  return Math.min(0.05 * 2 ** retries, RECONNECT_BACKOFF_MAX_SECONDS) * (0.5 + Math.random() / 2);
}

export interface PostgresOptions {
  url: string;
  max: number;
  /** Seconds to wait for a connection before failing the query. */
  connectTimeoutSeconds?: number;
}

/**
 * Server Postgres (Supabase or any PostgreSQL) through a postgres.js pool. Connects lazily.
 *
 * Every round trip counts as one of the current request's (lib/observability/request-stats): a
 * query, an exec (one message, however many statements it holds), and in a transaction its
 * BEGIN, each query or exec, and its COMMIT or ROLLBACK (postgres.js sends each on its own and
 * waits for the answer).
 */
export function createPostgresDb(options: PostgresOptions): Db {
  const sql = postgres(options.url, {
    max: options.max,
    connect_timeout: options.connectTimeoutSeconds ?? 5,
    backoff: reconnectBackoffSeconds,
    idle_timeout: 30,
    // Supabase's transaction pooler does not support prepared statements.
    prepare: false,
    onnotice: () => {},
    types: {
      // int8 as a JS number: our counters and ids stay far below 2^53.
      bigint: { to: 20, from: [20], serialize: (v: number) => String(v), parse: (v: string) => Number(v) },
    },
  });
  return {
    kind: "postgres",
    ...queryable(sql),
    async transaction(work) {
      countDbRoundTrip(); // BEGIN
      try {
        return (await sql.begin(async (tx) =>
          work({
            ...queryable(tx),
            exec: async (text) => {
              countDbRoundTrip();
              await tx.unsafe(text);
            },
          }),
        )) as Awaited<ReturnType<typeof work>>;
      } finally {
        countDbRoundTrip(); // COMMIT or ROLLBACK
      }
    },
    async exec(text) {
      countDbRoundTrip();
      await sql.unsafe(text);
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}
