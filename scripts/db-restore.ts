/**
 * `npm run db:restore FILE [--force]`: restores a backup made by `npm run db:backup`, after
 * checking it against `FILE.sha256` (a mismatch is refused).
 * - `*.sql.gz` into DATABASE_URL, with `psql` in one transaction. The target must be empty (no
 *   schema litstatus, supabase_migrations or auth of the dump): otherwise it refuses with exit
 *   code 2, unless --force, which drops those schemas and restores, in the same transaction.
 * - `*.pglite.tar.gz` into PGLITE_DATA_DIR (DATABASE_URL unset), loaded by PGlite (`loadDataDir`)
 *   into a new directory that then takes the target's place. The target must be absent or empty
 *   (exit code 2 otherwise) unless --force, which replaces it. Stop the app first: PGlite allows
 *   one process per data directory, and the app's lock file makes this refuse while it runs.
 * Prints one JSON line `{ target, ms, rows }` (rows per litstatus table) on success.
 *
 * Runs under `tsx --conditions react-server` so that `server-only` resolves to its empty export.
 */
import { EnvError, parseEnv } from "../lib/env";
import { BackupError, backupKindOf } from "../lib/db/backup";
import { restorePglite } from "../lib/db/backup-pglite";
import { restorePostgres } from "../lib/db/backup-postgres";

const USAGE = "usage: npm run db:restore -- FILE [--force]";

async function main(args: string[]): Promise<number> {
  const force = args.includes("--force");
  const files = args.filter((a) => a !== "--force");
  if (files.length !== 1 || files[0]!.startsWith("-")) {
    console.error(USAGE);
    return 1;
  }
  const file = files[0]!;
  try {
    const env = parseEnv(process.env);
    const kind = backupKindOf(file);
    if (kind === "postgres" && !env.DATABASE_URL) {
      throw new BackupError(`${file} is a PostgreSQL backup: set DATABASE_URL to the database to restore into`);
    }
    if (kind === "pglite" && env.DATABASE_URL) {
      throw new BackupError(`${file} is an embedded (PGlite) backup: unset DATABASE_URL and set PGLITE_DATA_DIR`);
    }
    const result =
      kind === "postgres"
        ? await restorePostgres({ url: env.DATABASE_URL!, env: process.env, file, force })
        : await restorePglite({ dataDir: env.PGLITE_DATA_DIR, file, force });
    const total = Object.values(result.rows).reduce((a, b) => a + b, 0);
    console.log(`Restored ${file} into ${result.target} in ${result.ms} ms (${total} litstatus rows)`);
    console.log(JSON.stringify(result));
    return 0;
  } catch (error) {
    if (error instanceof BackupError) {
      console.error(error.message);
      return error.exitCode;
    }
    if (error instanceof EnvError) console.error(error.message);
    else console.error(`Restore failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
