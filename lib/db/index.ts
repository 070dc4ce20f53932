import "server-only";
import { getEnv } from "@/lib/env";
import { logFor } from "@/lib/observability/logger";
import { withTimeout } from "@/lib/util/with-timeout";
import { migrate } from "./migrate";
import { createPgliteDb } from "./pglite-client";
import { createPostgresDb } from "./postgres-client";
import type { Db } from "./types";

export type { Db, Queryable, SqlParam } from "./types";

const globalForDb = globalThis as unknown as { __litstatusDb?: Promise<Db> };

async function openDb(): Promise<Db> {
  const env = getEnv();
  if (env.DATABASE_URL) {
    return createPostgresDb({ url: env.DATABASE_URL, max: env.DATABASE_POOL_MAX });
  }
  // The embedded database migrates itself; a server database is migrated by `npm run db:migrate`.
  const started = performance.now();
  const db = await createPgliteDb({ dataDir: env.PGLITE_DATA_DIR });
  const applied = await migrate(db);
  logFor("db").info(
    { dataDir: env.PGLITE_DATA_DIR, applied, ms: Math.round(performance.now() - started) },
    "embedded database ready",
  );
  return db;
}

/**
 * The process-wide database, kept on globalThis so hot reload never opens the embedded data
 * directory twice. A failed open is not cached: the next caller tries again.
 */
export function getDb(): Promise<Db> {
  if (!globalForDb.__litstatusDb) {
    const opening = openDb();
    globalForDb.__litstatusDb = opening;
    opening.catch(() => {
      if (globalForDb.__litstatusDb === opening) globalForDb.__litstatusDb = undefined;
    });
  }
  return globalForDb.__litstatusDb;
}

/** One cheap round trip, bounded in time: used by readiness. */
export async function pingDb(db: Db, timeoutMs: number): Promise<void> {
  await withTimeout(db.query("select 1"), timeoutMs, "database ping");
}
