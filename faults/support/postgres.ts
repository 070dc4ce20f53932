/**
 * A throwaway PostgreSQL cluster the suite may stop: initdb (the newest PostgreSQL installed) into
 * a temp directory as the `postgres` OS user, its own port (6230-6239) and unix socket directory.
 * `stop()` is `pg_ctl stop -m immediate` (a crash, as far as clients can tell); `start()` brings it
 * back on the same port. Never the machine's PostgreSQL on 5432.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";
import { migrate } from "@/lib/db/migrate";
import { createPostgresDb } from "@/lib/db/postgres-client";
import type { Db } from "@/lib/db/types";
import { run } from "./processes";

const INSTALLS = "/usr/lib/postgresql";
const OS_USER = "postgres";
/** The database the app runs on, in the throwaway cluster. */
const APP_DATABASE = "litstatus_faults";

/** The binaries of the newest PostgreSQL installed (Debian: /usr/lib/postgresql/<major>/bin), as .ci/run picks its cluster. */
function binaries(): string {
  const majors = existsSync(INSTALLS) ? readdirSync(INSTALLS).filter((name) => /^\d+$/.test(name)) : [];
  const newest = majors.sort((a, b) => Number(a) - Number(b)).at(-1);
  if (newest === undefined) throw new Error(`fault suite: no PostgreSQL under ${INSTALLS} (apt-get install postgresql; .ci/run installs it)`);
  return path.join(INSTALLS, newest, "bin");
}

export interface PostgresCluster {
  port: number;
  /** The app's database, migrated: `postgres://postgres@127.0.0.1:<port>/litstatus_faults`. */
  url: string;
  /** A pool on the app's database for the test's own counting (it reconnects after an outage). */
  db: Db;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/** Runs a PostgreSQL binary as the postgres OS user (initdb and the server refuse root). */
function asPostgres(binary: string, args: string[]): Promise<string> {
  const file = path.join(binaries(), binary);
  if (userInfo().uid !== 0) return run(file, args);
  return run("setpriv", ["--reuid", OS_USER, "--regid", OS_USER, "--init-groups", file, ...args]);
}

export async function startPostgres(port: number): Promise<PostgresCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), "litstatus-faults-pg-"));
  const data = path.join(dir, "data");
  const pgCtl = (...args: string[]) => asPostgres("pg_ctl", ["-D", data, "-w", "-t", "30", ...args]);
  const log = path.join(dir, "server.log");
  const startServer = () =>
    pgCtl(
      "-l",
      log,
      "-o",
      // fsync off: a throwaway cluster; unix socket in the temp directory, TCP on loopback only.
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60`,
      "start",
    ).then(
      () => undefined,
      (error: unknown) => {
        // The reason (a port in use, …) is in the server's log, not in pg_ctl's output.
        const detail = existsSync(log) ? readFileSync(log, "utf8").slice(-2000) : "";
        throw new Error(`PostgreSQL on port ${port} did not start: ${error instanceof Error ? error.message : String(error)}\n${detail}`);
      },
    );
  const url = `postgres://postgres@127.0.0.1:${port}/${APP_DATABASE}`;
  // Connects lazily: the first query (the migrations) comes once the database exists.
  const db = createPostgresDb({ url, max: 2 });
  let running = false;
  try {
    // As root, the cluster's files belong to the postgres user (the server refuses to run as root).
    if (userInfo().uid === 0) await run("chown", [`${OS_USER}:${OS_USER}`, dir]);
    await asPostgres("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
    await startServer();
    running = true;
    const admin = createPostgresDb({ url: `postgres://postgres@127.0.0.1:${port}/postgres`, max: 1 });
    try {
      await admin.exec(`create database ${APP_DATABASE}`);
    } finally {
      await admin.close();
    }
    await migrate(db);
  } catch (error) {
    await db.close().catch(() => undefined);
    if (running) await pgCtl("stop", "-m", "immediate").catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    port,
    url,
    db,
    async stop() {
      await pgCtl("stop", "-m", "immediate");
      running = false;
    },
    async start() {
      await startServer();
      running = true;
    },
    async destroy() {
      await db.close().catch(() => undefined);
      if (running) await pgCtl("stop", "-m", "immediate").catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
