/**
 * `npm run db:backup`: writes a timestamped, gzipped backup of the database and a `.sha256`
 * beside it, to BACKUP_DIR (default `backups/`).
 * - DATABASE_URL set: `pg_dump` of schemas litstatus, supabase_migrations (the migration table)
 *   and the local `auth` schema our bootstrap migration creates: `litstatus-<UTC>.sql.gz`.
 * - Otherwise the embedded database in PGLITE_DATA_DIR, dumped by PGlite itself (`dumpDataDir`):
 *   `litstatus-<UTC>.pglite.tar.gz`. The app must be stopped: PGlite allows one process per data
 *   directory, and the app's lock file makes this refuse while it runs.
 * Prints what it wrote, then one JSON line `{ file, bytes, ms, schemas }`. Exits 1 with one line
 * on failure.
 *
 * Runs under `tsx --conditions react-server` so that `server-only` resolves to its empty export.
 */
import { EnvError, parseEnv } from "../lib/env";
import { BackupError } from "../lib/db/backup";
import { backupPglite } from "../lib/db/backup-pglite";
import { backupPostgres } from "../lib/db/backup-postgres";

async function main(): Promise<number> {
  try {
    const env = parseEnv(process.env);
    // Only this operator script reads it, so it is not part of the app's environment (lib/env.ts).
    const dir = process.env.BACKUP_DIR?.trim() || "backups";
    const result = env.DATABASE_URL
      ? await backupPostgres({ url: env.DATABASE_URL, env: process.env, dir })
      : await backupPglite({ dataDir: env.PGLITE_DATA_DIR, dir });
    console.log(`Backup written: ${result.file} (${result.bytes} bytes in ${result.ms} ms; ${result.schemas.join(", ")})`);
    console.log(`Checksum: ${result.file}.sha256`);
    console.log(JSON.stringify(result));
    return 0;
  } catch (error) {
    if (error instanceof BackupError || error instanceof EnvError) console.error(error.message);
    else console.error(`Backup failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

process.exitCode = await main();
