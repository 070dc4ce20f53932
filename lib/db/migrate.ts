import "server-only";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { Db } from "./types";

// The directory is read at run time (next.config.ts ships it with the standalone output);
// the ignore hint keeps the bundler from tracing the whole project because of it.
export const MIGRATIONS_DIR = path.join(/* turbopackIgnore: true */ process.cwd(), "supabase", "migrations");

/** Any number; it only has to be the same for every instance migrating the same database. */
const MIGRATION_LOCK_ID = 4_815_162_342;

export interface MigrationFile {
  version: string;
  name: string;
  file: string;
  sql: string;
}

export class MigrationError extends Error {
  constructor(readonly file: string, cause: unknown) {
    super(`Migration ${file} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "MigrationError";
  }
}

/** `<timestamp>_<name>.sql`, as the Supabase CLI names them, in version order. */
export async function readMigrations(dir = MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort();
  return Promise.all(
    files.map(async (file) => {
      const match = /^(\d+)_(.+)\.sql$/.exec(file);
      if (!match?.[1] || !match[2]) {
        throw new MigrationError(file, new Error("file name must be <timestamp>_<name>.sql"));
      }
      return { version: match[1], name: match[2], file, sql: await readFile(path.join(/* turbopackIgnore: true */ dir, file), "utf8") };
    }),
  );
}

/**
 * Applies every migration not yet recorded in supabase_migrations.schema_migrations (the table
 * the Supabase CLI keeps), each in its own transaction, so a failing file leaves the schema
 * as it was. An advisory lock makes concurrent migrators take turns.
 */
export async function migrate(db: Db, dir = MIGRATIONS_DIR): Promise<string[]> {
  const migrations = await readMigrations(dir);
  // Under the same lock: concurrent `create ... if not exists` can still collide on the catalogs.
  await db.transaction(async (tx) => {
    await tx.query("select pg_advisory_xact_lock($1)", [MIGRATION_LOCK_ID]);
    await tx.exec(`
      create schema if not exists supabase_migrations;
      create table if not exists supabase_migrations.schema_migrations (
        version text primary key,
        statements text[],
        name text
      );
    `);
  });
  const applied: string[] = [];
  for (const migration of migrations) {
    try {
      const ran = await db.transaction(async (tx) => {
        await tx.query("select pg_advisory_xact_lock($1)", [MIGRATION_LOCK_ID]);
        const done = await tx.query("select 1 from supabase_migrations.schema_migrations where version = $1", [
          migration.version,
        ]);
        if (done.length > 0) return false;
        await tx.exec(migration.sql);
        await tx.query(
          "insert into supabase_migrations.schema_migrations (version, statements, name) values ($1, $2, $3)",
          [migration.version, [migration.sql], migration.name],
        );
        return true;
      });
      if (ran) applied.push(migration.file);
    } catch (error) {
      throw new MigrationError(migration.file, error);
    }
  }
  return applied;
}
