/**
 * `npm run db:migrate`: applies supabase/migrations/*.sql to DATABASE_URL, or to the embedded
 * database in PGLITE_DATA_DIR when DATABASE_URL is unset. Prints each applied file; exits 1
 * with one line naming the failing file (or the bad variable) on failure.
 *
 * Runs under `tsx --conditions react-server` so that `server-only` resolves to its empty export.
 */
import { EnvError, parseEnv } from "../lib/env";
import { MigrationError, migrate } from "../lib/db/migrate";
import { createPgliteDb } from "../lib/db/pglite-client";
import { createPostgresDb } from "../lib/db/postgres-client";
import type { Db } from "../lib/db/types";

/** Where we are migrating, without credentials. */
function describeTarget(databaseUrl: string | undefined, dataDir: string): string {
  if (!databaseUrl) return `embedded PGlite at ${dataDir}`;
  const url = new URL(databaseUrl);
  return `PostgreSQL at ${url.host}${url.pathname}`;
}

async function main(): Promise<number> {
  let db: Db | undefined;
  try {
    const env = parseEnv(process.env);
    const target = describeTarget(env.DATABASE_URL, env.PGLITE_DATA_DIR);
    db = env.DATABASE_URL
      ? createPostgresDb({ url: env.DATABASE_URL, max: 1, connectTimeoutSeconds: 10 })
      : await createPgliteDb({ dataDir: env.PGLITE_DATA_DIR });
    console.log(`Migrating ${target}`);
    const applied = await migrate(db);
    if (applied.length === 0) {
      console.log("Up to date: no migrations to apply.");
    } else {
      for (const file of applied) console.log(`applied ${file}`);
      console.log(`${applied.length} migration${applied.length === 1 ? "" : "s"} applied.`);
    }
    return 0;
  } catch (error) {
    if (error instanceof MigrationError || error instanceof EnvError) {
      console.error(error.message);
    } else {
      console.error(`Migration failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    return 1;
  } finally {
    await db?.close().catch(() => {});
  }
}

process.exitCode = await main();
