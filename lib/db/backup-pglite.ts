import "server-only";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { lockDataDir } from "./pglite-client";
import type { SqlParam } from "./types";
import { BackupError, backupFileName, countLitstatusRows, verifyChecksum, writeChecksum, type BackupResult, type RestoreResult } from "./backup";

/**
 * Embedded (PGlite) backups: PGlite's own dump of the data directory (`dumpDataDir("gzip")`, a
 * gzipped tarball) taken from an instance opened on it, never a copy of live files; restored by
 * `loadDataDir` into a new directory that takes the target's place only once it opened and
 * answered. The app must be stopped for either: PGlite allows one process per data directory.
 */

/**
 * PGlite is single-process. The app holds `<dataDir>.lock` (its pid) while the directory is open:
 * refuse while that process lives, and hold the same lock ourselves so the app cannot start on the
 * directory mid-backup or mid-restore.
 */
const lockForBackup = (dataDir: string) =>
  lockDataDir(
    dataDir,
    (holder) =>
      new BackupError(
        `The embedded database at ${dataDir} is open in process ${holder} (the app?). Stop it first: PGlite allows one process per data directory.`,
      ),
  );

async function isEmptyDir(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return true;
    throw error;
  }
}

export async function backupPglite(options: { dataDir: string; dir: string; now?: Date }): Promise<BackupResult> {
  const started = performance.now();
  if (await isEmptyDir(options.dataDir)) throw new BackupError(`Nothing to back up: no embedded database at ${options.dataDir}`);
  const unlock = lockForBackup(options.dataDir);
  try {
    const pg = await PGlite.create({ dataDir: options.dataDir });
    let tarball: Blob;
    try {
      const schema = await pg.query<{ present: boolean }>("select to_regnamespace('litstatus') is not null as present");
      if (!schema.rows[0]?.present) {
        throw new BackupError(`Nothing to back up: ${options.dataDir} has no schema litstatus (start the app once, or npm run db:migrate)`);
      }
      tarball = await pg.dumpDataDir("gzip");
    } finally {
      await pg.close();
    }
    await mkdir(options.dir, { recursive: true });
    const file = path.join(options.dir, backupFileName("pglite", options.now));
    await writeFile(`${file}.partial`, Buffer.from(await tarball.arrayBuffer()));
    await rename(`${file}.partial`, file);
    await writeChecksum(file);
    return {
      file,
      bytes: (await stat(file)).size,
      ms: Math.round(performance.now() - started),
      schemas: ["the whole data directory"],
    };
  } finally {
    unlock();
  }
}

export async function restorePglite(options: { dataDir: string; file: string; force: boolean }): Promise<RestoreResult> {
  const started = performance.now();
  await verifyChecksum(options.file);
  const target = path.resolve(options.dataDir);
  const unlock = lockForBackup(target);
  try {
    const empty = await isEmptyDir(target);
    if (!empty && !options.force) {
      throw new BackupError(
        `Refusing to restore into ${options.dataDir}: the directory is not empty. ` +
          "Restore into an empty or new PGLITE_DATA_DIR, or re-run with --force to replace it.",
        2,
      );
    }
    // Load into a new directory beside the target, and swap only once it opened and answered.
    const staging = `${target}.restoring-${process.pid}`;
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    let rows: Record<string, number>;
    try {
      const pg = await PGlite.create({ dataDir: staging, loadDataDir: new Blob([await readFile(options.file)], { type: "application/x-gzip" }) });
      try {
        rows = await countLitstatusRows({
          query: async <Row extends object>(sql: string, params: readonly SqlParam[] = []) => (await pg.query<Row>(sql, [...params])).rows,
        });
      } finally {
        await pg.close();
      }
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw new BackupError(`Could not load ${options.file}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const replaced = `${target}.replaced-${process.pid}`;
    if (existsSync(target)) await rename(target, replaced);
    await rename(staging, target);
    await rm(replaced, { recursive: true, force: true });
    return { target: `embedded PGlite at ${options.dataDir}`, ms: Math.round(performance.now() - started), rows };
  } finally {
    unlock();
  }
}
