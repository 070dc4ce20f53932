import "server-only";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { countDbRoundTrip } from "@/lib/observability/request-stats";
import { explainOpenFailure, prepareDataDir } from "./data-dir";
import { openPgliteWorker, type PgliteSession } from "./pglite-worker";
import type { Db, Queryable, SqlParam } from "./types";

function queryable(pg: Pick<PgliteSession, "query">): Queryable {
  return {
    async query<Row extends object>(text: string, params: readonly SqlParam[] = []) {
      countDbRoundTrip();
      const result = await pg.query<Row>(text, params);
      return result.rows;
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * PGlite is single-process: a second process opening the same directory corrupts it. A pid file
 * next to the data (`<dataDir>.lock`) refuses that with a clear message instead; the backup and
 * restore scripts take the same lock. Returns the release.
 */
export function lockDataDir(dataDir: string, refuse: (holder: number) => Error = alreadyOpen(dataDir)): () => void {
  const lockFile = `${path.resolve(dataDir)}.lock`;
  try {
    const holder = Number(readFileSync(lockFile, "utf8").trim());
    if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) throw refuse(holder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  writeFileSync(lockFile, String(process.pid));
  return () => rmSync(lockFile, { force: true });
}

const alreadyOpen = (dataDir: string) => (holder: number) =>
  new Error(
    `The embedded database at ${dataDir} is already open in process ${holder}. ` +
      "Stop that process, or set PGLITE_DATA_DIR (or DATABASE_URL) for this one.",
  );

export interface PgliteOptions {
  /** A directory to persist to, or undefined for a throwaway in-memory database (tests). */
  dataDir?: string;
  /**
   * A dump of another embedded database (`dump()`) to start from, instead of a new, empty
   * cluster. Tests use it to skip PGlite's initdb and the migrations: a few seconds of CPU each.
   */
  template?: Uint8Array;
}

/** The embedded database: a Db that can also dump its data directory (a `template`). */
export type PgliteDb = Db & { dump(): Promise<Uint8Array> };

/**
 * The embedded database. It is in process, but each statement is counted as a round trip of the
 * current request exactly as postgres-client counts it (BEGIN, each query or exec, COMMIT/ROLLBACK),
 * so both modes report the same figures and a new query shows up in either.
 */
export async function createPgliteDb(options: PgliteOptions = {}): Promise<PgliteDb> {
  const { dataDir, template } = options;
  let unlock = () => {};
  let pg: PgliteSession;
  try {
    if (dataDir) {
      prepareDataDir(dataDir);
      unlock = lockDataDir(dataDir);
    }
    // On its own thread (lib/db/pglite-worker.ts): the statements' CPU stays off the event loop.
    pg = await openPgliteWorker(dataDir, template);
  } catch (error) {
    unlock();
    throw dataDir ? explainOpenFailure(dataDir, error) : error;
  }
  return {
    kind: "pglite",
    ...queryable(pg),
    async transaction(work) {
      countDbRoundTrip(); // BEGIN
      try {
        return await pg.transaction((tx) =>
          work({
            ...queryable(tx),
            exec: async (text) => {
              countDbRoundTrip();
              await tx.exec(text);
            },
          }),
        );
      } finally {
        countDbRoundTrip(); // COMMIT or ROLLBACK
      }
    },
    async exec(text) {
      countDbRoundTrip();
      await pg.exec(text);
    },
    dump: () => pg.dump(),
    async close() {
      await pg.close();
      unlock();
    },
  };
}
