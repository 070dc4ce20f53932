import "server-only";
import { spawn } from "node:child_process";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";
import { BackupError, backupFileName, countLitstatusRows, verifyChecksum, writeChecksum, type BackupResult, type RestoreResult } from "./backup";
import { createPostgresDb } from "./postgres-client";

/**
 * PostgreSQL backups: `pg_dump --format=plain --no-owner` of the schemas below, gzipped behind a
 * one-line header naming them, and restored with `psql --single-transaction` (so a failed or
 * refused restore changes nothing). The client tools come from the PostgreSQL install on PATH;
 * their major version must be at least the server's.
 */

/** Always dumped: the app's tables and the migration table (lib/db/migrate.ts). */
const APP_SCHEMAS = ["litstatus", "supabase_migrations"] as const;
/**
 * auth.users is what litstatus rows reference. Our bootstrap migration creates a small local `auth`
 * schema on plain PostgreSQL and PGlite; on Supabase the schema is Supabase's own (many more
 * tables) and is left to Supabase's backups.
 */
const LOCAL_AUTH_TABLES = ["users"];
const HEADER_PREFIX = "-- litstatus-backup v1 schemas=";

/**
 * The cluster-wide API roles the dump grants to, created where missing exactly as
 * supabase/migrations/20261122000000_supabase_bootstrap.sql does (a restore into a new cluster).
 */
const API_ROLES_SQL = ["anon nologin noinherit", "authenticated nologin noinherit", "service_role nologin noinherit bypassrls"]
  .map(
    (role) => `do $$ begin
  if not exists (select 1 from pg_roles where rolname = '${role.split(" ")[0]}') then create role ${role}; end if;
exception when duplicate_object or unique_violation then null; -- created concurrently by another restore
end $$;
`,
  )
  .join("");

/**
 * libpq connection settings without the password on the command line (it goes in PGPASSWORD).
 * `baseEnv` is the environment the client tools run with (the caller's: PATH, PG* settings).
 */
function libpq(url: string, baseEnv: NodeJS.ProcessEnv): { dbname: string; env: NodeJS.ProcessEnv; label: string } {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  parsed.password = "";
  const env: NodeJS.ProcessEnv = { ...baseEnv };
  if (password) env.PGPASSWORD = password;
  return { dbname: parsed.toString(), env, label: `PostgreSQL at ${parsed.host}${parsed.pathname}` };
}

interface Exited {
  code: number | null;
  stderr: string;
}

function collectExit(child: ReturnType<typeof spawn>, tool: string): Promise<Exited> {
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.on("error", (error: NodeJS.ErrnoException) =>
      reject(
        new BackupError(
          error.code === "ENOENT" ? `${tool} not found: install the PostgreSQL client (Debian: postgresql-client)` : `${tool}: ${error.message}`,
        ),
      ),
    );
    child.on("close", (code) => resolve({ code, stderr: stderr.trim() }));
  });
}

async function clientMajor(tool: string): Promise<number> {
  const child = spawn(tool, ["--version"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
  });
  const exited = await collectExit(child, tool);
  const major = Number(/\)\s+(\d+)/.exec(out)?.[1]);
  if (exited.code !== 0 || !Number.isInteger(major)) throw new BackupError(`${tool} --version failed: ${exited.stderr || out}`);
  return major;
}

interface PgFacts {
  serverMajor: number;
  presentSchemas: string[];
  authTables: string[];
  rows: Record<string, number>;
}

async function inspectPostgres(url: string): Promise<PgFacts> {
  const db = createPostgresDb({ url, max: 1, connectTimeoutSeconds: 10 });
  try {
    const [version] = await db.query<{ v: string }>("select current_setting('server_version_num') as v");
    const schemas = await db.query<{ nspname: string }>(
      "select nspname from pg_namespace where nspname = any($1) order by nspname",
      [[...APP_SCHEMAS, "auth"]],
    );
    const authTables = await db.query<{ table_name: string }>(
      "select table_name from information_schema.tables where table_schema = 'auth' order by table_name",
    );
    return {
      serverMajor: Math.floor(Number(version?.v) / 10_000),
      presentSchemas: schemas.map((s) => s.nspname),
      authTables: authTables.map((t) => t.table_name),
      rows: await countLitstatusRows(db),
    };
  } finally {
    await db.close();
  }
}

async function assertClientCanTalkTo(tool: string, serverMajor: number): Promise<void> {
  const major = await clientMajor(tool);
  if (major < serverMajor) {
    throw new BackupError(`${tool} ${major} cannot work with PostgreSQL ${serverMajor}: install postgresql-client-${serverMajor}`);
  }
}

export interface PostgresTarget {
  url: string;
  /** The environment pg_dump / psql run with (scripts pass process.env). */
  env: NodeJS.ProcessEnv;
}

export async function backupPostgres(options: PostgresTarget & { dir: string; now?: Date }): Promise<BackupResult> {
  const started = performance.now();
  const facts = await inspectPostgres(options.url);
  if (!facts.presentSchemas.includes("litstatus")) {
    throw new BackupError("Nothing to back up: schema litstatus does not exist (run npm run db:migrate first)");
  }
  await assertClientCanTalkTo("pg_dump", facts.serverMajor);
  const localAuth = facts.authTables.length > 0 && facts.authTables.every((t) => LOCAL_AUTH_TABLES.includes(t));
  const schemas = [...APP_SCHEMAS.filter((s) => facts.presentSchemas.includes(s)), ...(localAuth ? ["auth"] : [])];

  await mkdir(options.dir, { recursive: true });
  const file = path.join(options.dir, backupFileName("postgres", options.now));
  const partial = `${file}.partial`;
  const conn = libpq(options.url, options.env);
  const dump = spawn(
    "pg_dump",
    ["--format=plain", "--no-owner", ...schemas.map((s) => `--schema=${s}`), `--dbname=${conn.dbname}`],
    { env: conn.env, stdio: ["ignore", "pipe", "pipe"] },
  );
  const exited = collectExit(dump, "pg_dump");
  try {
    await pipeline(
      Readable.from(
        (async function* () {
          yield Buffer.from(`${HEADER_PREFIX}${schemas.join(",")}\n`);
          for await (const chunk of dump.stdout) yield chunk as Buffer;
        })(),
      ),
      createGzip({ level: 9 }),
      createWriteStream(partial),
    );
    const { code, stderr } = await exited;
    if (code !== 0) throw new BackupError(`pg_dump failed (exit ${code}): ${stderr}`);
    await rename(partial, file);
  } catch (error) {
    dump.kill();
    await rm(partial, { force: true });
    throw error;
  }
  await writeChecksum(file);
  return { file, bytes: (await stat(file)).size, ms: Math.round(performance.now() - started), schemas };
}

/** The schemas a SQL backup holds, from its header line. */
async function readHeader(file: string): Promise<string[]> {
  const gunzip = createReadStream(file).pipe(createGunzip());
  let head = "";
  try {
    for await (const chunk of gunzip) {
      head += (chunk as Buffer).toString("utf8");
      if (head.includes("\n") || head.length > 4096) break;
    }
  } catch (error) {
    throw new BackupError(`${file} is not a readable gzip file: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    gunzip.destroy();
  }
  const line = head.split("\n", 1)[0] ?? "";
  if (!line.startsWith(HEADER_PREFIX)) throw new BackupError(`${file} is not a litstatus PostgreSQL backup (no header line)`);
  return line.slice(HEADER_PREFIX.length).split(",").filter(Boolean);
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function describeRows(rows: Record<string, number>): string {
  const total = Object.values(rows).reduce((a, b) => a + b, 0);
  return `${total} rows in ${Object.values(rows).filter((n) => n > 0).length} litstatus tables`;
}

export async function restorePostgres(options: PostgresTarget & { file: string; force: boolean }): Promise<RestoreResult> {
  const started = performance.now();
  await verifyChecksum(options.file);
  const schemas = await readHeader(options.file);
  const conn = libpq(options.url, options.env);
  const before = await inspectPostgres(options.url);
  const clashing = before.presentSchemas.filter((s) => schemas.includes(s) || s === "litstatus");
  if (clashing.length > 0 && !options.force) {
    throw new BackupError(
      `Refusing to restore into ${conn.label}: it is not empty (schema ${clashing.join(", ")} present, ${describeRows(before.rows)}). ` +
        `Restore into an empty database, or re-run with --force to drop ${schemas.join(", ")} and restore.`,
      2,
    );
  }
  await assertClientCanTalkTo("psql", before.serverMajor);

  const prelude =
    API_ROLES_SQL + (options.force ? schemas.map((s) => `drop schema if exists ${quoteIdent(s)} cascade;\n`).join("") : "");
  // One transaction: a restore that fails part way leaves the database as it was (drops included).
  const psql = spawn(
    "psql",
    ["-X", "--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "--single-transaction", "--output=/dev/null", "--file=-", `--dbname=${conn.dbname}`],
    { env: conn.env, stdio: ["pipe", "ignore", "pipe"] },
  );
  const exited = collectExit(psql, "psql");
  try {
    await pipeline(
      Readable.from(
        (async function* () {
          yield Buffer.from(prelude);
          for await (const chunk of createReadStream(options.file).pipe(createGunzip())) yield chunk as Buffer;
        })(),
      ),
      psql.stdin,
    );
  } catch (error) {
    psql.kill();
    await exited.catch(() => undefined);
    throw new BackupError(`Restore failed while streaming ${options.file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const { code, stderr } = await exited;
  if (code !== 0) throw new BackupError(`psql failed (exit ${code}); nothing was changed: ${stderr.split("\n").slice(0, 3).join(" ")}`);
  const after = await inspectPostgres(options.url);
  return { target: conn.label, ms: Math.round(performance.now() - started), rows: after.rows };
}
