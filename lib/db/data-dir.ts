import { accessSync, constants, existsSync, mkdirSync, statfsSync } from "node:fs";
import path from "node:path";

/**
 * The embedded database's directory, checked before PGlite touches it: a directory it cannot
 * write (a read-only file system, no permission) or a disk without room for a new database makes
 * PGlite fail deep inside its WASM file system with an empty or misleading message, and a new
 * database that runs out of space half way leaves a broken directory behind. So the problem is
 * named up front, once, and the server exits with EXIT_DATA_DIR_UNUSABLE instead of starting
 * without a database (lib/startup.ts). Restarting cannot fix it: the shipped supervisors do not
 * restart on that code (deploy/litstatus.service RestartPreventExitStatus=).
 */

/** The exit status of a server whose embedded database directory is unusable (sysexits EX_CANTCREAT). */
export const EXIT_DATA_DIR_UNUSABLE = 73;

/** Free space a new embedded database needs: initdb plus the migrations write about 40 MiB. */
export const NEW_DATABASE_MIN_FREE_BYTES = 64 * 1024 * 1024;

/** Emscripten's errno for ENOSPC, as PGlite's file system reports a full disk. */
const WASM_ENOSPC = 51;

export class DataDirError extends Error {
  constructor(
    readonly dataDir: string,
    readonly problem: string,
  ) {
    super(`the embedded database directory ${dataDir} ${problem}: fix it, or set DATABASE_URL to use PostgreSQL`);
    this.name = "DataDirError";
  }
}

const mib = (bytes: number): string => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;

function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** What a file-system error says about the directory, or undefined when it says nothing specific. */
function problemOf(error: unknown): string | undefined {
  const code = errnoCode(error);
  if (code === "EROFS") return "is on a read-only file system (EROFS)";
  if (code === "EACCES" || code === "EPERM") return `is not writable by this user (${code})`;
  if (code === "ENOSPC" || (error as { errno?: unknown } | null)?.errno === WASM_ENOSPC) return "has no space left on its device (ENOSPC)";
  if (code === "EDQUOT") return "is over its disk quota (EDQUOT)";
  return undefined;
}

/** The directory itself, or its nearest ancestor that exists (what a failed mkdir could not write into). */
function nearestExisting(dir: string): string {
  let current = path.resolve(dir);
  while (!existsSync(current) && path.dirname(current) !== current) current = path.dirname(current);
  return current;
}

function writableOrThrow(dataDir: string, dir: string): void {
  try {
    accessSync(dir, constants.W_OK);
  } catch (error) {
    throw new DataDirError(dataDir, problemOf(error) ?? `cannot be written (${errnoCode(error) ?? "unknown error"})`);
  }
}

/**
 * Creates the directory if needed and checks it can hold the database: writable (access(2) says
 * EROFS even to root on a read-only mount) and, for a new database, NEW_DATABASE_MIN_FREE_BYTES
 * free. Throws DataDirError naming the problem.
 */
export function prepareDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (error) {
    // A recursive mkdir on a read-only mount can report ENOENT: ask the parent what is wrong.
    writableOrThrow(dataDir, nearestExisting(dataDir));
    throw new DataDirError(dataDir, problemOf(error) ?? `cannot be created (${errnoCode(error) ?? "unknown error"})`);
  }
  writableOrThrow(dataDir, dataDir);
  if (existsSync(path.join(dataDir, "PG_VERSION"))) return;
  const { bavail, bsize } = statfsSync(dataDir);
  const free = bavail * bsize;
  if (free < NEW_DATABASE_MIN_FREE_BYTES) {
    throw new DataDirError(dataDir, `has no room for a new database (${mib(free)} free, ${mib(NEW_DATABASE_MIN_FREE_BYTES)} needed)`);
  }
}

/** A failure while opening the database, as a DataDirError when it is the directory's fault; else the error itself. */
export function explainOpenFailure(dataDir: string, error: unknown): unknown {
  if (error instanceof DataDirError) return error;
  const problem = problemOf(error);
  return problem === undefined ? error : new DataDirError(dataDir, problem);
}
