/**
 * `npm run retention`: runs data retention once (lib/retention: security events, funnel events
 * and guests' generations past their retention, in batches, plus the stuck-generation sweep)
 * against DATABASE_URL, or the embedded database in PGLITE_DATA_DIR when it is unset, and
 * prints the result as one JSON object on stdout. Exits 1 with one line on stderr on failure.
 *
 * Runs under `tsx --conditions react-server` so that `server-only` resolves to its empty export.
 * Logs go to stdout too, so only warnings and errors are logged unless LOG_LEVEL says otherwise.
 */
import { EnvError } from "../lib/env";

process.env.LOG_LEVEL ??= "warn";

async function main(): Promise<number> {
  const { getDb } = await import("../lib/db");
  const { runRetention } = await import("../lib/retention");
  try {
    const result = await runRetention();
    console.log(JSON.stringify(result));
    return 0;
  } catch (error) {
    console.error(error instanceof EnvError ? error.message : `Retention failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await getDb()
      .then((db) => db.close())
      .catch(() => {});
  }
}

process.exitCode = await main();
