/**
 * Backups that restore (issue 11 item 6): `npm run db:backup` and `npm run db:restore FILE
 * [--force]`, run as the operator runs them (tsx with the react-server condition, environment
 * only), on a database with rows in EVERY table of schema litstatus (the list comes from
 * information_schema, so a new table without fixture rows fails here), restored elsewhere and
 * compared table by table: row count and an md5 of all rows' text in a total order, for every
 * litstatus table, auth.users and the migration table, plus the identity sequences.
 *
 * - PGlite (both runs: it needs no server): PGlite's own dumpDataDir / loadDataDir.
 * - PostgreSQL (real run, TEST_DATABASE_URL): pg_dump / psql into a fresh database.
 * Also: the file is gzip (magic 1f 8b) and named litstatus-<UTC yyyymmddThhmmssZ>, stamped within
 * the test's own clock window; a byte flipped in the dump is refused (exit 1, target untouched);
 * a non-empty target is refused (exit 2, one line, data unchanged) and replaced with --force;
 * the embedded backup refuses while another live process holds the data directory's lock.
 * Figures (size, time, rows) are printed for the operations note.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScratchDb, openTestDb, type TestDb } from "@/e2e/support/harness/stores-db";
import { migrate } from "@/lib/db/migrate";
import { createPgliteDb } from "@/lib/db/pglite-client";
import type { Db, Queryable } from "@/lib/db/types";

const ROOT = path.resolve(import.meta.dirname, "../..");
const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");
const real = Boolean(process.env.TEST_DATABASE_URL);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `npm run db:backup` / `db:restore` exactly as package.json runs them, without npm's own output. */
function runScript(script: "db-backup" | "db-restore", args: string[], env: Record<string, string | undefined>): Promise<Run> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: "warn", ...env };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete childEnv[key];
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(TSX, ["--conditions", "react-server", `scripts/${script}.ts`, ...args], { cwd: ROOT, env: childEnv, timeout: 90_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout, stderr, ms: Math.round(performance.now() - started) });
    });
  });
}

const N_USERS = 200;
const N_EVENTS = 3000;
const N_GENERATIONS = 600;

/** Rows in every litstatus table, with NULLs, JSON, arrays, inet, non-ASCII text and identities. */
const FIXTURE = `
insert into auth.users (id, email, raw_user_meta_data, created_at)
select ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'user' || i || '@example.test',
       jsonb_build_object('n', i, 'name', 'Zoë 用户 ' || i), timestamptz '2026-11-01 00:00Z' + i * interval '1 minute'
from generate_series(1, ${N_USERS}) i;
-- profiles rows come from the auth.users trigger.
update litstatus.profiles set plan = 'pro', credits = 7, role = case when email like 'user1@%' then 'admin' else 'user' end,
  disabled_at = case when email like 'user2@%' then timestamptz '2026-11-20 12:00Z' end
where email like 'user1%' or email like 'user2%';
insert into litstatus.login_tokens (token_hash, email, expires_at, used_at)
select encode(sha256(convert_to('token-' || i, 'UTF8')), 'hex'), 'user' || i || '@example.test',
       timestamptz '2026-12-01 00:00Z' + i * interval '1 second', case when i % 2 = 0 then timestamptz '2026-11-28 00:00Z' end
from generate_series(1, 50) i;
insert into litstatus.funnel_events (event, user_id, session_id, path, lang, variant, referrer, utm_source, meta, created_at)
select (array['page_view', 'generate_click', 'generate_success', 'copy'])[1 + i % 4],
       case when i % 3 = 0 then ('00000000-0000-4000-8000-' || lpad(to_hex(1 + i % ${N_USERS}), 12, '0'))::uuid end,
       's-' || (i % 500), '/' || (array['en', 'zh'])[1 + i % 2], (array['en', 'zh'])[1 + i % 2], 'v' || (i % 3),
       case when i % 5 = 0 then 'https://example.test/ref?q=' || i end, case when i % 7 = 0 then 'newsletter' end,
       jsonb_build_object('i', i, 'tags', jsonb_build_array('a', i % 10)), timestamptz '2026-11-01 00:00Z' + i * interval '17 seconds'
from generate_series(1, ${N_EVENTS}) i;
insert into litstatus.security_events (event_type, severity, ip, user_id, path, user_agent, meta, created_at)
select (array['rate_limited', 'quota_exceeded', 'auth_failure', 'ip_blocked'])[1 + i % 4],
       (array['info', 'warn', 'error', 'critical'])[1 + i % 4],
       case when i % 2 = 0 then ('10.' || (i % 250) || '.' || (i % 7) || '.1')::inet else ('2001:db8::' || to_hex(i))::inet end,
       case when i % 4 = 0 then ('00000000-0000-4000-8000-' || lpad(to_hex(1 + i % ${N_USERS}), 12, '0'))::uuid end,
       '/api/generate', 'Mozilla/5.0 (test ' || i || ')', jsonb_build_object('retryAfter', i % 60), timestamptz '2026-11-01 00:00Z' + i * interval '13 seconds'
from generate_series(1, ${N_EVENTS}) i;
insert into litstatus.generations (id, user_id, status, mode, lang, platform, input_text, input_hash, has_image, caption, hashtags,
  detected_object, provider, model, cached, latency_ms, prompt_tokens, completion_tokens, error_code, request_id, created_at, completed_at,
  variants, favorited_at)
select ('10000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
       case when i % 4 <> 0 then ('00000000-0000-4000-8000-' || lpad(to_hex(1 + i % ${N_USERS}), 12, '0'))::uuid end,
       (array['pending', 'complete', 'failed'])[1 + i % 3], (array['standard', 'savage', 'rizz'])[1 + i % 3], (array['en', 'zh'])[1 + i % 2],
       (array['instagram', 'tiktok', 'x', 'linkedin', 'xiaohongshu', 'threads'])[1 + i % 6],
       case when i % 4 <> 0 then 'Sunset at the pier ☀️ 第' || i || '天' end, encode(sha256(convert_to('in-' || i, 'UTF8')), 'hex'), i % 5 = 0,
       'Caption "' || i || E'" with a tab\\t and a newline\\n', array['#sun', '#day' || i], case when i % 5 = 0 then 'dog' end,
       'offline', 'offline-1', i % 2 = 0, 100 + i, 50 + i, 20 + i, case when i % 3 = 2 then 'upstream_timeout' end, 'req-' || i,
       timestamptz '2026-11-01 00:00Z' + i * interval '1 minute', timestamptz '2026-11-01 00:00:02Z' + i * interval '1 minute',
       case when i % 3 = 1 then jsonb_build_array(jsonb_build_object('caption', 'c' || i, 'hashtags', jsonb_build_array('#a'))) end,
       case when i % 10 = 1 then timestamptz '2026-11-25 00:00Z' end
from generate_series(1, ${N_GENERATIONS}) i;
update litstatus.generations set duplicate_of = '10000000-0000-4000-8000-000000000001' where id = '10000000-0000-4000-8000-000000000005';
insert into litstatus.usage_daily (user_id, day, used)
select ('00000000-0000-4000-8000-' || lpad(to_hex(u), 12, '0'))::uuid, date '2026-11-01' + d, (u + d) % 10
from generate_series(1, ${N_USERS}) u, generate_series(0, 4) d;
insert into litstatus.usage_ledger (user_id, day, kind, source, idempotency_key, generation_id, amount, reason, actor_id, request_hash, credits_after)
select ('00000000-0000-4000-8000-' || lpad(to_hex(1 + i % ${N_USERS}), 12, '0'))::uuid, date '2026-11-01' + i % 20,
       (array['charge', 'refund', 'grant'])[1 + i % 3], case when i % 3 = 2 then 'credit' else (array['daily', 'credit'])[1 + i % 2] end,
       'idem-' || i, ('10000000-0000-4000-8000-' || lpad(to_hex(1 + i % ${N_GENERATIONS}), 12, '0'))::uuid,
       case when i % 3 = 2 then 5 else 1 end, case when i % 3 = 2 then 'goodwill ' || i end,
       case when i % 3 = 2 then '00000000-0000-4000-8000-000000000001'::uuid end,
       case when i % 3 = 2 then encode(sha256(convert_to('req-' || i, 'UTF8')), 'hex') end, case when i % 3 = 2 then i end
from generate_series(1, 900) i;
insert into litstatus.pro_wishlist (email, note, user_id, lang)
select 'wish' || i || '@example.test', case when i % 2 = 0 then 'Please add 小红书 ' || i end,
       case when i % 3 = 0 then ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid end, (array['en', 'zh'])[1 + i % 2]
from generate_series(1, 120) i;
insert into litstatus.feedback (generation_id, user_id, client_hash, rating, comment)
select ('10000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
       case when i % 2 = 0 then ('00000000-0000-4000-8000-' || lpad(to_hex(1 + i % ${N_USERS}), 12, '0'))::uuid end,
       case when i % 2 = 1 then encode(sha256(convert_to('client-' || i, 'UTF8')), 'hex') end,
       case when i % 3 = 0 then -1 else 1 end, case when i % 4 = 0 then 'meh; = + - @ ' || i end
from generate_series(1, 300) i;
insert into litstatus.admin_audit_log (created_at, actor_id, actor_email, action, target, before, after, ip, request_id, prev_hash, hash)
select timestamptz '2026-11-20 00:00Z' + i * interval '1 hour', '00000000-0000-4000-8000-000000000001', 'user1@example.test',
       (array['user.update', 'credits.grant', 'blocklist.add'])[1 + i % 3], 'user:' || i, jsonb_build_object('plan', 'free'),
       jsonb_build_object('plan', 'pro'), '127.0.0.1', 'req-' || i,
       encode(sha256(convert_to('prev-' || i, 'UTF8')), 'hex'), encode(sha256(convert_to('hash-' || i, 'UTF8')), 'hex')
from generate_series(1, 80) i;
`;

async function litstatusTables(db: Queryable): Promise<string[]> {
  const rows = await db.query<{ table_name: string }>(
    "select table_name from information_schema.tables where table_schema = 'litstatus' and table_type = 'BASE TABLE' order by table_name",
  );
  return rows.map((r) => r.table_name);
}

interface TableFingerprint {
  rows: number;
  md5: string;
}

/**
 * Per table: the row count and an md5 of every row's text, in the rows' own text order (a total
 * order, so no primary key is needed); plus each litstatus sequence's last value.
 */
async function fingerprint(db: Queryable): Promise<Record<string, TableFingerprint | number>> {
  const tables = [...(await litstatusTables(db)).map((t) => `litstatus.${t}`), "auth.users", "supabase_migrations.schema_migrations"];
  const result: Record<string, TableFingerprint | number> = {};
  for (const table of tables) {
    const [row] = await db.query<{ rows: number; md5: string }>(
      `select count(*)::int as rows, md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) as md5 from ${table} t`,
    );
    result[table] = { rows: row!.rows, md5: row!.md5 };
  }
  const sequences = await db.query<{ name: string; last: number | null }>(
    "select sequencename as name, last_value::int as last from pg_sequences where schemaname = 'litstatus' order by sequencename",
  );
  for (const s of sequences) result[`sequence litstatus.${s.name}`] = s.last ?? 0;
  return result;
}

/** Fills every table and checks that none was left empty (a new table needs fixture rows). */
async function fill(db: Db): Promise<void> {
  await db.exec(FIXTURE);
  const empty: string[] = [];
  for (const table of await litstatusTables(db)) {
    const [row] = await db.query<{ n: number }>(`select count(*)::int as n from litstatus.${table}`);
    if (!row || row.n === 0) empty.push(table);
  }
  expect(empty, "litstatus tables without fixture rows: add them to FIXTURE in lib/db/backup.int.test.ts").toEqual([]);
}

function rowsPerTable(print: Record<string, TableFingerprint | number>): string {
  return Object.entries(print)
    .flatMap(([table, v]) => (typeof v === "number" ? [] : [`${table}=${v.rows}`]))
    .join(" ");
}

function totalRows(print: Record<string, TableFingerprint | number>): number {
  return Object.values(print).reduce<number>((sum, v) => sum + (typeof v === "number" ? 0 : v.rows), 0);
}

/** The one backup in `dir`: its name says when (within the clock window) and what; it is gzip. */
async function expectOneBackup(dir: string, extension: string, from: Date, to: Date): Promise<string> {
  const names = (await readdir(dir)).sort();
  const backups = names.filter((n) => n.endsWith(extension));
  expect(backups).toHaveLength(1);
  const name = backups[0]!;
  expect(names).toEqual([name, `${name}.sha256`]);
  const match = /^litstatus-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z\./.exec(name);
  expect(match, name).not.toBeNull();
  const [, y, mo, d, h, mi, s] = match!;
  const stamped = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
  // The name has whole seconds: stamped lies in [from rounded down, to].
  expect(stamped).toBeGreaterThanOrEqual(Math.floor(from.getTime() / 1000) * 1000);
  expect(stamped).toBeLessThanOrEqual(to.getTime());
  const file = path.join(dir, name);
  const head = (await readFile(file)).subarray(0, 2);
  expect([...head]).toEqual([0x1f, 0x8b]);
  const sum = await readFile(`${file}.sha256`, "utf8");
  expect(sum).toMatch(new RegExp(`^[0-9a-f]{64}  ${name.replaceAll(".", "\\.")}\\n$`));
  return file;
}

/** A copy of `file` (and its checksum file) with one byte in the middle flipped. */
async function corruptedCopy(file: string, dir: string): Promise<string> {
  const copy = path.join(dir, path.basename(file));
  const bytes = await readFile(file);
  const middle = Math.floor(bytes.length / 2);
  bytes[middle] = bytes[middle]! ^ 0xff;
  await writeFile(copy, bytes);
  await copyFile(`${file}.sha256`, `${copy}.sha256`);
  return copy;
}

/** The `ms` of the script's JSON line: its own time, without tsx's start-up. */
function ownMs(run: Run): number {
  return (JSON.parse(run.stdout.trim().split("\n").at(-1)!) as { ms: number }).ms;
}

/**
 * One line of figures for a backup/restore round trip. Wall times include starting tsx (about
 * 1-2 s); `own` times are the scripts' own figures.
 */
function report(kind: string, bytes: number, runs: { backup: Run; restore: Run; forced: Run }, before: Record<string, TableFingerprint | number>): void {
  const figures: Record<string, string | number> = {
    bytes,
    backupWallMs: runs.backup.ms,
    backupOwnMs: ownMs(runs.backup),
    restoreWallMs: runs.restore.ms,
    restoreOwnMs: ownMs(runs.restore),
    forcedRestoreOwnMs: ownMs(runs.forced),
    rows: totalRows(before),
    tables: Object.values(before).filter((v) => typeof v !== "number").length,
    perTable: rowsPerTable(before),
  };
  console.log(`[backup figures] ${kind}: ${Object.entries(figures).map(([k, v]) => `${k}=${v}`).join(" ")}`);
}

/** A restored database takes writes: the sign-up trigger fires and identities continue after the restored rows. */
async function expectWritableAfterRestore(db: Queryable): Promise<void> {
  await db.query("insert into auth.users (email) values ('after-restore@example.test')");
  const [profile] = await db.query<{ n: number }>("select count(*)::int as n from litstatus.profiles where email = 'after-restore@example.test'");
  expect(profile?.n).toBe(1);
  const [event] = await db.query<{ id: number }>("insert into litstatus.funnel_events (event) values ('page_view') returning id");
  expect(event?.id).toBe(N_EVENTS + 1);
}

describe("db:backup / db:restore on the embedded database (PGlite dumpDataDir / loadDataDir)", () => {
  let tmp: string;
  let source: string;
  let before: Record<string, TableFingerprint | number>;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), "litstatus-backup-pglite-"));
    source = path.join(tmp, "source");
    const db = await createPgliteDb({ dataDir: source });
    try {
      await migrate(db);
      await fill(db);
      before = await fingerprint(db);
    } finally {
      await db.close();
    }
  }, 120_000);

  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  const embedded = { DATABASE_URL: undefined };

  it("backs up, restores into a new data directory with equal tables, refuses a damaged dump and a non-empty target", async () => {
    const backups = path.join(tmp, "backups");

    // The app holds the directory (its lock names a live process): the backup refuses.
    await writeFile(`${source}.lock`, String(process.pid));
    const held = await runScript("db-backup", [], { ...embedded, PGLITE_DATA_DIR: source, BACKUP_DIR: backups });
    await rm(`${source}.lock`, { force: true });
    expect(held.code).toBe(1);
    expect(held.stderr).toContain(`open in process ${process.pid}`);
    expect(existsSync(backups) ? await readdir(backups) : []).toEqual([]);

    const from = new Date();
    const backup = await runScript("db-backup", [], { ...embedded, PGLITE_DATA_DIR: source, BACKUP_DIR: backups });
    const to = new Date();
    expect(backup.code, backup.stderr).toBe(0);
    const file = await expectOneBackup(backups, ".pglite.tar.gz", from, to);
    expect(file).toMatch(/\.pglite\.tar\.gz$/);
    const bytes = (await stat(file)).size;

    // A byte flipped: refused before anything is written.
    const damaged = await corruptedCopy(file, await mkdtemp(path.join(tmp, "damaged-")));
    const target = path.join(tmp, "restored");
    const refusedDamaged = await runScript("db-restore", [damaged], { ...embedded, PGLITE_DATA_DIR: target });
    expect(refusedDamaged.code).toBe(1);
    expect(refusedDamaged.stderr).toContain("Checksum mismatch");
    expect(existsSync(target)).toBe(false);

    const restore = await runScript("db-restore", [file], { ...embedded, PGLITE_DATA_DIR: target });
    expect(restore.code, restore.stderr).toBe(0);
    let after: Record<string, TableFingerprint | number>;
    let db = await createPgliteDb({ dataDir: target });
    try {
      after = await fingerprint(db);
      // Change the restored copy, so the forced restore below has something to put back.
      await db.exec("delete from litstatus.feedback; insert into auth.users (email) values ('late@example.test');");
    } finally {
      await db.close();
    }
    expect(after).toEqual(before);

    // Not empty: refused with exit 2 and one line, the directory untouched.
    const refused = await runScript("db-restore", [file], { ...embedded, PGLITE_DATA_DIR: target });
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split("\n")).toHaveLength(1);
    expect(refused.stderr).toMatch(/not empty.*--force/);

    const forced = await runScript("db-restore", [file, "--force"], { ...embedded, PGLITE_DATA_DIR: target });
    expect(forced.code, forced.stderr).toBe(0);
    db = await createPgliteDb({ dataDir: target });
    try {
      expect(await fingerprint(db)).toEqual(before);
      // The restored database is a working one: the auth trigger makes a profile, identities go on.
      await expectWritableAfterRestore(db);
;
    } finally {
      await db.close();
    }
    expect((await readdir(tmp)).filter((n) => n.includes(".restoring-") || n.includes(".replaced-"))).toEqual([]);

    report("pglite", bytes, { backup, restore, forced }, before);
  }, 240_000);
});

describe.skipIf(!real)("db:backup / db:restore on PostgreSQL (pg_dump / psql)", () => {
  let tmp: string;
  let source: TestDb;
  const targets: TestDb[] = [];
  let before: Record<string, TableFingerprint | number>;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), "litstatus-backup-pg-"));
    source = await openTestDb();
    await fill(source.db);
    before = await fingerprint(source.db);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(targets.map((t) => t.cleanup()));
    await source?.cleanup();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  async function emptyDatabase(): Promise<TestDb> {
    const db = await createScratchDb();
    targets.push(db);
    return db;
  }

  it("backs up, restores into an empty database with equal tables, refuses a damaged dump and a non-empty target", async () => {
    const backups = path.join(tmp, "backups");
    const from = new Date();
    const backup = await runScript("db-backup", [], { DATABASE_URL: source.url, BACKUP_DIR: backups });
    const to = new Date();
    expect(backup.code, backup.stderr).toBe(0);
    const file = await expectOneBackup(backups, ".sql.gz", from, to);
    const bytes = (await stat(file)).size;
    expect(JSON.parse(backup.stdout.trim().split("\n").at(-1)!).schemas).toEqual(["litstatus", "supabase_migrations", "auth"]);

    // A byte flipped: refused, the empty target stays empty.
    const damagedTarget = await emptyDatabase();
    const damaged = await corruptedCopy(file, await mkdtemp(path.join(tmp, "damaged-")));
    const refusedDamaged = await runScript("db-restore", [damaged], { DATABASE_URL: damagedTarget.url });
    expect(refusedDamaged.code).toBe(1);
    expect(refusedDamaged.stderr).toContain("Checksum mismatch");
    const [schemas] = await damagedTarget.db.query<{ n: number }>(
      "select count(*)::int as n from pg_namespace where nspname in ('litstatus', 'supabase_migrations', 'auth')",
    );
    expect(schemas?.n).toBe(0);

    const target = await emptyDatabase();
    const restore = await runScript("db-restore", [file], { DATABASE_URL: target.url });
    expect(restore.code, restore.stderr).toBe(0);
    expect(await fingerprint(target.db)).toEqual(before);

    // Change the copy; a second restore is refused (exit 2, one line) and changes nothing.
    await target.db.exec("delete from litstatus.feedback; insert into auth.users (email) values ('late@example.test');");
    const changed = await fingerprint(target.db);
    const refused = await runScript("db-restore", [file], { DATABASE_URL: target.url });
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split("\n")).toHaveLength(1);
    expect(refused.stderr).toMatch(/not empty.*--force/);
    expect(await fingerprint(target.db)).toEqual(changed);

    const forced = await runScript("db-restore", [file, "--force"], { DATABASE_URL: target.url });
    expect(forced.code, forced.stderr).toBe(0);
    expect(await fingerprint(target.db)).toEqual(before);
    await expectWritableAfterRestore(target.db);

    report("postgres", bytes, { backup, restore, forced }, before);
  }, 240_000);
});
