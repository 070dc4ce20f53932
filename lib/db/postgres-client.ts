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
