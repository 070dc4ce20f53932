import { randomUUID } from "node:crypto";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScratchDb, openTestDb, type TestDb } from "@/e2e/support/harness/stores-db";
import { runWithRequestStats } from "@/lib/observability/request-stats";
import { MIGRATIONS_DIR, MigrationError, migrate, readMigrations } from "./migrate";
import type { Queryable } from "./types";

/**
 * The Db contract, run on whatever openTestDb() gives: in-memory PGlite by default, a fresh
 * database on a real PostgreSQL server when TEST_DATABASE_URL is set. The roles anon,
 * authenticated and service_role are cluster-wide on a server: tests create them only through
 * the guarded bootstrap and never drop them.
 */

let t: TestDb;

beforeAll(async () => {
  t = await openTestDb();
});

afterAll(async () => {
  await t?.cleanup();
});

async function withScratch<T>(work: (scratch: TestDb) => Promise<T>): Promise<T> {
  const scratch = await createScratchDb();
  try {
    return await work(scratch);
  } finally {
    await scratch.cleanup();
  }
}

async function tableExists(db: Queryable, name: string): Promise<boolean> {
  const [row] = await db.query<{ oid: string | null }>("select to_regclass($1)::text as oid", [name]);
  return row?.oid != null;
}

describe("Db contract", () => {
  it("reports the kind it was opened as", () => {
    expect(t.db.kind).toBe(t.kind);
    if (t.kind === "postgres") expect(t.url).toMatch(/\/litstatus_test_[0-9a-f]+$/);
  });

  it("binds parameters and parses int8, null, text[] and timestamptz", async () => {
    const at = new Date("2026-03-04T05:06:07.089Z");
    const tags = ["a", "b,c", 'q"uote', "sp ace", ""];
    const [row] = await t.db.query<{
      big: unknown;
      small: unknown;
      nothing: unknown;
      tags: unknown;
      at: unknown;
      flag: unknown;
      word: unknown;
    }>(
      "select $1::int8 as big, $2::int4 as small, $3::text as nothing, $4::text[] as tags, " +
        "$5::timestamptz as at, $6::boolean as flag, $7::text as word",
      [2 ** 40, 7, null, tags, at, true, "héllo 'world'"],
    );
    expect(row).toBeDefined();
    expect(row?.big).toBe(2 ** 40);
    expect(row?.small).toBe(7);
    expect(row?.nothing).toBeNull();
    expect(row?.tags).toEqual(tags);
    expect(row?.at).toBeInstanceOf(Date);
    expect((row?.at as Date).getTime()).toBe(at.getTime());
    expect(row?.flag).toBe(true);
    expect(row?.word).toBe("héllo 'world'");
  });

  it("returns int8 aggregates as numbers, also without parameters", async () => {
    const [row] = await t.db.query<{ n: unknown }>("select count(*) as n from generate_series(1, 3)");
    expect(row?.n).toBe(3);
    const [sum] = await t.db.query<{ s: unknown }>("select sum(x)::int8 as s from unnest($1::int8[]) as x", [[1, 2, 3]]);
    expect(sum?.s).toBe(6);
  });

  it("returns no rows as an empty array", async () => {
    expect(await t.db.query("select 1 where false")).toEqual([]);
  });

  it("commits a transaction when the work resolves", async () => {
    await t.db.exec("create table contract_commit (id int primary key, note text)");
    const result = await t.db.transaction(async (tx) => {
      await tx.query("insert into contract_commit (id, note) values ($1, $2)", [1, "one"]);
      await tx.exec("insert into contract_commit (id, note) values (2, 'two')");
      return "done";
    });
    expect(result).toBe("done");
    const rows = await t.db.query<{ id: number; note: string }>("select id, note from contract_commit order by id");
    expect(rows).toEqual([
      { id: 1, note: "one" },
      { id: 2, note: "two" },
    ]);
  });

  it("rolls a transaction back when the work throws, rethrowing the error", async () => {
    await t.db.exec("create table contract_rollback (id int primary key)");
    const boom = new Error("boom");
    await expect(
      t.db.transaction(async (tx) => {
        await tx.query("insert into contract_rollback (id) values ($1)", [1]);
        await tx.exec("create table contract_rollback_made_in_tx (id int)");
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await t.db.query("select id from contract_rollback")).toEqual([]);
    expect(await tableExists(t.db, "public.contract_rollback_made_in_tx")).toBe(false);
  });

  it("rolls a transaction back when a statement fails", async () => {
    await t.db.exec("create table contract_sql_error (id int primary key)");
    await expect(
      t.db.transaction(async (tx) => {
        await tx.query("insert into contract_sql_error (id) values ($1)", [1]);
        await tx.query("insert into contract_sql_error (id) values ($1)", [1]);
      }),
    ).rejects.toThrow(/duplicate key/);
    expect(await t.db.query("select id from contract_sql_error")).toEqual([]);
    // The connection is usable afterwards.
    expect(await t.db.query("select 1 as ok")).toEqual([{ ok: 1 }]);
  });
});

/** Runs `work` as a request and returns the database round trips it counted. */
async function dbTrips(work: () => Promise<unknown>): Promise<number> {
  const run = runWithRequestStats(async () => {
    await work();
  });
  await run.result.catch(() => {});
  return run.stats.dbRoundTrips;
}

describe("round trips are counted by the Db itself", () => {
  it("counts each query and exec exactly once, so one more query changes the figure", async () => {
    await t.db.exec("create table contract_trips (id int primary key)");
    expect(await dbTrips(() => t.db.query("select 1"))).toBe(1);
    const three = async () => {
      await t.db.query("insert into contract_trips (id) values ($1)", [1]);
      await t.db.query("select id from contract_trips");
      await t.db.exec("delete from contract_trips");
    };
    expect(await dbTrips(three)).toBe(3);
    expect(
      await dbTrips(async () => {
        await three();
        await t.db.query("select 1");
      }),
    ).toBe(4);
    // Concurrent statements of one request all count.
    expect(await dbTrips(() => Promise.all(Array.from({ length: 5 }, () => t.db.query("select 1"))))).toBe(5);
  });

  it("counts a transaction as BEGIN + each statement + COMMIT (or ROLLBACK)", async () => {
    await t.db.exec("create table contract_tx_trips (id int primary key)");
    const committed = await dbTrips(() =>
      t.db.transaction(async (tx) => {
        await tx.query("insert into contract_tx_trips (id) values ($1)", [1]);
        await tx.exec("insert into contract_tx_trips (id) values (2)");
      }),
    );
    expect(committed).toBe(4);
    const rolledBack = await dbTrips(() =>
      t.db.transaction(async (tx) => {
        await tx.query("insert into contract_tx_trips (id) values ($1)", [1]);
      }),
    );
    expect(rolledBack).toBe(3); // BEGIN, the failing insert, ROLLBACK
  });

  it("keeps requests apart and counts nothing outside one", async () => {
    const a = runWithRequestStats(async () => {
      await t.db.query("select 1");
      await t.db.query("select 2");
    });
    const b = runWithRequestStats(() => t.db.query("select 3"));
    await Promise.all([a.result, b.result, t.db.query("select 4")]);
    expect([a.stats.dbRoundTrips, b.stats.dbRoundTrips]).toEqual([2, 1]);
  });
});

describe("migrate", () => {
  it("records every migration version, in order", async () => {
    const files = await readMigrations();
    expect(files.length).toBeGreaterThanOrEqual(2);
    const rows = await t.db.query<{ version: string; name: string; statements: string[] }>(
      "select version, name, statements from supabase_migrations.schema_migrations order by version",
    );
    expect(rows.map((r) => r.version)).toEqual(files.map((f) => f.version));
    expect(rows.map((r) => r.name)).toEqual(files.map((f) => f.name));
    expect(rows.map((r) => r.statements)).toEqual(files.map((f) => [f.sql]));
  });

  it("is idempotent: a second run applies nothing", async () => {
    expect(await migrate(t.db)).toEqual([]);
    expect(await migrate(t.db)).toEqual([]);
    const [row] = await t.db.query<{ n: number }>("select count(*) as n from supabase_migrations.schema_migrations");
    expect(row?.n).toBe((await readMigrations()).length);
  });

  it("applies every file on an empty database and returns their names in order", async () => {
    await withScratch(async (scratch) => {
      const files = await readMigrations();
      expect(await migrate(scratch.db)).toEqual(files.map((f) => f.file));
      expect(await tableExists(scratch.db, "litstatus.profiles")).toBe(true);
      expect(await migrate(scratch.db)).toEqual([]);
    });
  });

  it("lets concurrent migrators take turns: each file is applied exactly once", async () => {
    await withScratch(async (scratch) => {
      const results = await Promise.all([migrate(scratch.db), migrate(scratch.db), migrate(scratch.db)]);
      const files = (await readMigrations()).map((f) => f.file);
      expect(results.flat().sort()).toEqual(files);
      const [row] = await scratch.db.query<{ n: number }>(
        "select count(*) as n from supabase_migrations.schema_migrations",
      );
      expect(row?.n).toBe(files.length);
    });
  });

  describe("a failing migration", () => {
    let dir: string;

    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), "litstatus-migrations-"));
      for (const file of await readMigrations()) {
        await copyFile(path.join(MIGRATIONS_DIR, file.file), path.join(dir, file.file));
      }
      await writeFile(
        path.join(dir, "99999999999999_broken.sql"),
        "create table public.broken_probe (id int primary key);\n" +
          "insert into public.broken_probe (id) values (1);\n" +
          "select * from public.no_such_table_at_all;\n",
      );
    });

    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("throws a MigrationError naming the file and leaves no trace of it", async () => {
      await withScratch(async (scratch) => {
        const error = await migrate(scratch.db, dir).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(MigrationError);
        expect((error as MigrationError).file).toBe("99999999999999_broken.sql");
        expect((error as MigrationError).message).toContain("99999999999999_broken.sql");
        expect((error as MigrationError).message).toMatch(/no_such_table_at_all/);

        expect(await tableExists(scratch.db, "public.broken_probe")).toBe(false);
        const rows = await scratch.db.query<{ version: string }>(
          "select version from supabase_migrations.schema_migrations order by version",
        );
        expect(rows.map((r) => r.version)).toEqual((await readMigrations()).map((f) => f.version));
        expect(await tableExists(scratch.db, "litstatus.profiles")).toBe(true);

        // Fixing the file (here: dropping it) lets the next run finish with nothing left to do.
        await rm(path.join(dir, "99999999999999_broken.sql"));
        expect(await migrate(scratch.db, dir)).toEqual([]);
      });
    });

    it("rejects a file not named <timestamp>_<name>.sql, naming it", async () => {
      const badDir = await mkdtemp(path.join(tmpdir(), "litstatus-migrations-bad-"));
      try {
        await writeFile(path.join(badDir, "oops.sql"), "select 1;");
        await expect(readMigrations(badDir)).rejects.toThrow(/oops\.sql/);
      } finally {
        await rm(badDir, { recursive: true, force: true });
      }
    });
  });
});

describe("bootstrap migration", () => {
  async function bootstrapSql(): Promise<string> {
    const [first] = await readMigrations();
    expect(first?.name).toBe("supabase_bootstrap");
    return readFile(path.join(MIGRATIONS_DIR, first!.file), "utf8");
  }

  it("can run again on a migrated database without changing anything", async () => {
    const sql = await bootstrapSql();
    const before = await t.db.query("select rolname, rolinherit, rolbypassrls from pg_roles where rolname in ('anon', 'authenticated', 'service_role') order by rolname");
    await t.db.exec(sql);
    await t.db.exec(sql);
    const after = await t.db.query("select rolname, rolinherit, rolbypassrls from pg_roles where rolname in ('anon', 'authenticated', 'service_role') order by rolname");
    expect(after).toEqual(before);
    expect(before.map((r) => (r as { rolname: string }).rolname)).toEqual(["anon", "authenticated", "service_role"]);
  });

  it("keeps what Supabase already provides: the auth schema, auth.users, auth.uid() and the roles", async () => {
    await withScratch(async (scratch) => {
      const fixedUid = "00000000-0000-4000-8000-000000000001";
      if (scratch.kind === "pglite") {
        // Roles with attributes the bootstrap would not give them, to see they are left alone.
        // (On a server the roles are cluster-wide and already exist: never create or drop them here.)
        await scratch.db.exec(`
          create role anon nologin inherit;
          create role authenticated nologin inherit;
          create role service_role nologin inherit bypassrls;
        `);
      }
      await scratch.db.exec(`
        create schema auth;
        create table auth.users (id uuid primary key, email text, provider_marker text not null default 'supabase');
        create function auth.uid() returns uuid language sql stable as $$ select '${fixedUid}'::uuid $$;
      `);

      const applied = await migrate(scratch.db);
      expect(applied).toEqual((await readMigrations()).map((f) => f.file));

      const columns = await scratch.db.query<{ column_name: string }>(
        "select column_name from information_schema.columns where table_schema = 'auth' and table_name = 'users' order by ordinal_position",
      );
      expect(columns.map((c) => c.column_name)).toEqual(["id", "email", "provider_marker"]);
      expect(await scratch.db.query("select auth.uid()::text as uid")).toEqual([{ uid: fixedUid }]);
      if (scratch.kind === "pglite") {
        const roles = await scratch.db.query<{ rolname: string; rolinherit: boolean }>(
          "select rolname, rolinherit from pg_roles where rolname in ('anon', 'authenticated', 'service_role') order by rolname",
        );
        expect(roles).toEqual([
          { rolname: "anon", rolinherit: true },
          { rolname: "authenticated", rolinherit: true },
          { rolname: "service_role", rolinherit: true },
        ]);
      }
      expect(await tableExists(scratch.db, "litstatus.profiles")).toBe(true);
    });
  });

  it("auth.uid() reads request.jwt.claims and the legacy request.jwt.claim.sub", async () => {
    const id = randomUUID();
    const other = randomUUID();
    await t.db.transaction(async (tx) => {
      expect(await tx.query("select auth.uid() as uid")).toEqual([{ uid: null }]);
      await tx.query("select set_config('request.jwt.claims', $1, true)", [JSON.stringify({ sub: id, role: "authenticated" })]);
      expect(await tx.query("select auth.uid()::text as uid")).toEqual([{ uid: id }]);
      await tx.query("select set_config('request.jwt.claim.sub', $1, true)", [other]);
      expect(await tx.query("select auth.uid()::text as uid")).toEqual([{ uid: other }]);
    });
  });
});

describe("row level security", () => {
  const alice = randomUUID();
  const bob = randomUUID();

  beforeAll(async () => {
    await t.db.query("insert into auth.users (id, email) values ($1, $2), ($3, $4)", [
      alice,
      "alice@example.com",
      bob,
      "bob@example.com",
    ]);
    // The auth.users trigger creates profiles; this keeps the test independent of it.
    await t.db.query("insert into litstatus.profiles (user_id, email) values ($1, $2), ($3, $4) on conflict (user_id) do nothing", [
      alice,
      "alice@example.com",
      bob,
      "bob@example.com",
    ]);
  });

  /** Runs `work` as an API role, with the JWT claims PostgREST would set, then rolls back. */
  async function asRole<T>(role: string, sub: string | null, work: (tx: Queryable) => Promise<T>): Promise<T> {
    return t.db.transaction(async (tx) => {
      await tx.exec(`set local role ${role}`);
      if (sub) {
        await tx.exec(`set local request.jwt.claims = '${JSON.stringify({ sub, role })}'`);
      }
      return work(tx);
    });
  }

  it("lets an authenticated user see only their own profile", async () => {
    const rows = await asRole("authenticated", alice, (tx) =>
      tx.query<{ user_id: string }>("select user_id from litstatus.profiles"),
    );
    expect(rows).toEqual([{ user_id: alice }]);
    const bobs = await asRole("authenticated", bob, (tx) =>
      tx.query<{ user_id: string }>("select user_id from litstatus.profiles where user_id = $1", [alice]),
    );
    expect(bobs).toEqual([]);
  });

  it("shows an authenticated session without a sub claim nothing", async () => {
    expect(await asRole("authenticated", null, (tx) => tx.query("select user_id from litstatus.profiles"))).toEqual([]);
  });

  it("does not let an authenticated user update another's profile", async () => {
    const outcome = await asRole("authenticated", alice, (tx) =>
      tx.query("update litstatus.profiles set plan = 'pro' where user_id = $1 returning user_id", [bob]),
    ).then(
      (rows) => ({ rows }),
      (error: unknown) => ({ error }),
    );
    // No UPDATE grant at all: the statement is refused outright.
    expect("error" in outcome && String(outcome.error)).toMatch(/permission denied/);
    const [row] = await t.db.query<{ plan: string }>("select plan from litstatus.profiles where user_id = $1", [bob]);
    expect(row?.plan).toBe("free");
  });

  it("shows anon no profiles", async () => {
    // anon has no grant on the table, so reading it is refused rather than merely empty.
    await expect(asRole("anon", null, (tx) => tx.query("select * from litstatus.profiles"))).rejects.toThrow(
      /permission denied/,
    );
    await expect(asRole("anon", alice, (tx) => tx.query("select * from litstatus.profiles"))).rejects.toThrow(
      /permission denied/,
    );
  });

  it("keeps funnel and security events away from API users", async () => {
    for (const table of ["litstatus.funnel_events", "litstatus.security_events"]) {
      await expect(asRole("authenticated", alice, (tx) => tx.query(`select * from ${table}`))).rejects.toThrow(
        /permission denied/,
      );
      await expect(asRole("anon", null, (tx) => tx.query(`select * from ${table}`))).rejects.toThrow(/permission denied/);
    }
  });

  it("lets service_role read and write everything", async () => {
    const rows = await asRole("service_role", null, async (tx) => {
      await tx.query("insert into litstatus.security_events (event_type, severity, ip) values ($1, $2, $3)", [
        "contract_probe",
        "info",
        "203.0.113.9",
      ]);
      await tx.query("insert into litstatus.funnel_events (event, user_id) values ($1, $2)", ["contract_probe", alice]);
      return tx.query<{ user_id: string }>("select user_id from litstatus.profiles where user_id in ($1, $2) order by email", [
        alice,
        bob,
      ]);
    });
    expect(rows).toEqual([{ user_id: alice }, { user_id: bob }]);
  });
});

describe("runbook indexes", () => {
  const runbookIndexes = [
    "profiles_email_idx",
    "profiles_created_at_idx",
    "funnel_events_event_created_idx",
    "funnel_events_created_idx",
    "funnel_events_session_idx",
    "funnel_events_user_idx",
    "security_events_created_idx",
    "security_events_type_created_idx",
    "security_events_severity_created_idx",
    "security_events_ip_created_idx",
    "security_events_user_idx",
  ];

  it("exist, as does every index the migrations create", async () => {
    const declared = new Set<string>();
    for (const file of await readMigrations()) {
      for (const match of file.sql.matchAll(/create\s+(?:unique\s+)?index\s+(?:if\s+not\s+exists\s+)?(\w+)\s+on\s+litstatus\./gi)) {
        declared.add(match[1]!);
      }
    }
    expect([...declared].sort()).toEqual(expect.arrayContaining(runbookIndexes.sort()));
    const rows = await t.db.query<{ indexname: string }>(
      "select indexname from pg_indexes where schemaname = 'litstatus'",
    );
    const present = new Set(rows.map((r) => r.indexname));
    for (const name of declared) expect(present, name).toContain(name);
  });
});
