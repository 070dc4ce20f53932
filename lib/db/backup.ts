import "server-only";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import type { Queryable } from "./types";

/**
 * Backups that restore (`npm run db:backup`, `npm run db:restore FILE [--force]`): what both kinds
 * share. backup-postgres.ts: `pg_dump` (plain SQL, no owners) of the schemas our migrations create,
 * gzipped, restored with `psql` in one transaction. backup-pglite.ts: PGlite's own data-directory
 * dump (`dumpDataDir`, a gzipped tarball) from an instance opened on the directory, restored with
 * `loadDataDir` into a new directory; never a file copy. Each backup has a `<file>.sha256` beside
 * it (in `sha256sum` format, so `sha256sum -c` checks it too) that restore verifies first.
 */

/** A refusal or failure with the exit code the script ends with (2: the target is not empty). */
export class BackupError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
    this.name = "BackupError";
  }
}

export type BackupKind = "postgres" | "pglite";

export interface BackupResult {
  file: string;
  bytes: number;
  ms: number;
  schemas: string[];
}

export interface RestoreResult {
  target: string;
  ms: number;
  /** Rows per table of schema litstatus after the restore. */
  rows: Record<string, number>;
}

const EXTENSION: Record<BackupKind, string> = { postgres: ".sql.gz", pglite: ".pglite.tar.gz" };

/** `litstatus-20261129T131500Z.sql.gz`: sorts by time, safe in any file system. */
export function backupFileName(kind: BackupKind, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return `litstatus-${stamp}${EXTENSION[kind]}`;
}

/** Which restore a file needs, from its name. */
export function backupKindOf(file: string): BackupKind {
  if (file.endsWith(EXTENSION.pglite)) return "pglite";
  if (file.endsWith(EXTENSION.postgres)) return "postgres";
  throw new BackupError(`${file} is not a litstatus backup (expected *${EXTENSION.postgres} or *${EXTENSION.pglite})`);
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file), hash);
  return hash.digest("hex");
}

/** Writes `<file>.sha256` in sha256sum's format. */
export async function writeChecksum(file: string): Promise<void> {
  await writeFile(`${file}.sha256`, `${await sha256Of(file)}  ${path.basename(file)}\n`);
}

/** Refuses a backup whose checksum file is missing or does not match. */
export async function verifyChecksum(file: string): Promise<void> {
  let expected: string | undefined;
  try {
    expected = /^([0-9a-f]{64})\s/.exec(await readFile(`${file}.sha256`, "utf8"))?.[1];
  } catch {
    throw new BackupError(`No checksum file ${file}.sha256: refusing to restore an unverified backup`);
  }
  if (!expected) throw new BackupError(`${file}.sha256 does not hold a SHA-256 checksum`);
  const actual = await sha256Of(file);
  if (actual !== expected) {
    throw new BackupError(`Checksum mismatch for ${file} (expected ${expected}, got ${actual}): the backup is damaged; not restoring`);
  }
}

/** Exact rows per base table of schema litstatus (empty when the schema is absent). */
export async function countLitstatusRows(db: Queryable): Promise<Record<string, number>> {
  const tables = await db.query<{ table_name: string }>(
    "select table_name from information_schema.tables where table_schema = 'litstatus' and table_type = 'BASE TABLE' order by table_name",
  );
  const rows: Record<string, number> = {};
  for (const { table_name } of tables) {
    const [count] = await db.query<{ n: number }>(`select count(*)::int as n from litstatus."${table_name.replaceAll('"', '""')}"`);
    rows[table_name] = count?.n ?? 0;
  }
  return rows;
}
