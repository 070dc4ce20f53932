import "server-only";
import { createRequire } from "node:module";
import path from "node:path";
import { Worker } from "node:worker_threads";
import type { SqlParam } from "./types";

/**
 * Embedded PGlite on its own thread. PGlite is PostgreSQL compiled to WebAssembly: every statement
 * runs on the thread that owns it, and on the app's event loop it took about a third of the CPU
 * of a cached generate (the record writer's batched INSERTs), time every request waited for. Here
 * it runs in a worker thread; the event loop only posts statements and reads rows.
 *
 * The worker is given as source (`eval`), not as a file: the app runs from Next's server bundle,
 * from tsx scripts and from vitest, and a worker file would need a different path in each. The
 * one thing it loads, PGlite's CommonJS entry, is resolved here from the working directory (the
 * standalone server's folder, or the repository root), where Next's tracing puts the package.
 *
 * One session, as with PGlite in process: a transaction owns it from BEGIN to COMMIT/ROLLBACK,
 * and the worker holds back every other statement (and any other BEGIN) until it ends, in order.
 */

/** What lib/db/pglite-client.ts uses of PGlite. */
export interface PgliteSession {
  query<Row>(sql: string, params?: readonly SqlParam[]): Promise<{ rows: Row[] }>;
  exec(sql: string): Promise<void>;
  transaction<T>(work: (tx: Pick<PgliteSession, "query" | "exec">) => Promise<T>): Promise<T>;
  /** The whole data directory as an uncompressed tar (what `template` takes). */
  dump(): Promise<Uint8Array>;
  close(): Promise<void>;
}

type Op = "open" | "query" | "exec" | "begin" | "commit" | "rollback" | "dump" | "close";

interface Call {
  id: number;
  op: Op;
  /** The transaction a statement belongs to (0: none). */
  tx: number;
  sql?: string;
  params?: readonly SqlParam[];
  dataDir?: string;
  /** open: a data directory dump (PGlite's dumpDataDir, uncompressed) to start from. */
  template?: Uint8Array;
}

/** `value`: a statement's rows, or a dump's bytes. */
type Reply = { id: number; ok: true; value?: unknown } | { id: number; ok: false; error: Record<string, unknown> };

const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require("node:worker_threads");
const { PGlite, types } = require(workerData.entry);
let pg = null;
let owner = 0; // the transaction holding the session (0: none)
let held = []; // calls that arrived while another transaction held it

function errorFields(error) {
  const fields = { message: String(error && error.message !== undefined ? error.message : error) };
  if (error && typeof error === "object") {
    for (const key of Object.keys(error)) {
      const value = error[key];
      if (value === null || ["string", "number", "boolean"].includes(typeof value)) fields[key] = value;
    }
    if (typeof error.name === "string") fields.name = error.name;
    if (typeof error.code === "string" || typeof error.code === "number") fields.code = error.code;
    if (typeof error.errno === "number") fields.errno = error.errno;
    if (typeof error.stack === "string") fields.stack = error.stack;
  }
  return fields;
}

function answer(id, work) {
  work.then(
    (value) => parentPort.postMessage({ id, ok: true, value }),
    (error) => parentPort.postMessage({ id, ok: false, error: errorFields(error) }),
  );
}

function run(call) {
  switch (call.op) {
    case "open":
      return answer(call.id, PGlite.create({
        dataDir: call.dataDir,
        loadDataDir: call.template ? new Blob([call.template]) : undefined,
        parsers: { [types.INT8]: (value) => Number(value) },
      }).then((db) => { pg = db; }));
    case "query":
      return answer(call.id, pg.query(call.sql, call.params).then((result) => result.rows));
    case "exec":
      return answer(call.id, pg.exec(call.sql).then(() => undefined));
    case "begin": {
      owner = call.tx;
      const begun = pg.query("BEGIN");
      // A BEGIN that failed opened nothing: the session is free again.
      begun.catch(() => { if (owner === call.tx) release(); });
      return answer(call.id, begun.then(() => undefined));
    }
    case "commit":
    case "rollback": {
      const done = pg.query(call.op === "commit" ? "COMMIT" : "ROLLBACK");
      // Whatever the outcome, the transaction no longer holds the session.
      done.then(release, release);
      return answer(call.id, done.then(() => undefined));
    }
    case "dump":
      return answer(call.id, pg.dumpDataDir("none").then((blob) => blob.arrayBuffer()).then((buffer) => new Uint8Array(buffer)));
    case "close":
      return answer(call.id, pg ? pg.close().then(() => undefined) : Promise.resolve());
  }
}

function release() {
  owner = 0;
  const waiting = held;
  held = [];
  for (const next of waiting) dispatch(next);
}

function dispatch(call) {
  if (owner !== 0 && call.tx !== owner) held.push(call);
  else run(call);
}

parentPort.on("message", dispatch);
`;

let nextTx = 1;

/** PGlite's CommonJS entry (`<package>/dist/index.cjs`), resolved from the working directory. */
export function pgliteEntry(): string {
  return createRequire(path.join(process.cwd(), "noop.js")).resolve("@electric-sql/pglite");
}

/**
 * Starts a worker, opens PGlite in it (a data directory, or in memory; from `template`, a dump of
 * another database, when given) and answers once it is open.
 */
export async function openPgliteWorker(dataDir: string | undefined, template?: Uint8Array): Promise<PgliteSession> {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { entry: pgliteEntry() } });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let dead: Error | null = null;

  // The worker keeps the process alive only while a statement is waiting for it, so a script
  // that forgets close() still exits, and one awaiting a statement does not exit under it.
  worker.unref();
  const settle = (id: number) => {
    const entry = pending.get(id);
    pending.delete(id);
    if (pending.size === 0) worker.unref();
    return entry;
  };
  worker.on("message", (reply: Reply) => {
    const waiter = settle(reply.id);
    if (!waiter) return;
    if (reply.ok) waiter.resolve(reply.value);
    else waiter.reject(Object.assign(new Error(String(reply.error.message)), reply.error));
  });
  const fail = (error: Error) => {
    dead = error;
    for (const [id, waiter] of [...pending]) {
      settle(id);
      waiter.reject(error);
    }
  };
  worker.on("error", (error) => fail(error));
  worker.on("exit", (code) => fail(new Error(`the embedded database thread stopped (exit ${code})`)));

  const call = (op: Op, tx: number, fields: Partial<Call> = {}): Promise<unknown> => {
    if (dead) return Promise.reject(dead);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      if (pending.size === 0) worker.ref();
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, op, tx, ...fields } satisfies Call);
    });
  };
  const statements = (tx: number): Pick<PgliteSession, "query" | "exec"> => ({
    query: async <Row>(sql: string, params: readonly SqlParam[] = []) => ({ rows: ((await call("query", tx, { sql, params })) ?? []) as Row[] }),
    exec: async (sql: string) => {
      await call("exec", tx, { sql });
    },
  });

  try {
    await call("open", 0, { dataDir, template });
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  return {
    ...statements(0),
    async transaction(work) {
      const tx = nextTx++;
      await call("begin", tx);
      let result;
      try {
        result = await work(statements(tx));
      } catch (error) {
        await call("rollback", tx).catch(() => undefined);
        throw error;
      }
      await call("commit", tx);
      return result;
    },
    async dump() {
      return (await call("dump", 0)) as Uint8Array;
    },
    async close() {
      if (!dead) await call("close", 0).catch(() => undefined);
      await worker.terminate();
    },
  };
}
