import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { migrate } from "@/lib/db/migrate";
import { createPostgresDb } from "@/lib/db/postgres-client";
import type { Db } from "@/lib/db/types";
import { openPgliteCopy } from "./pglite-template";

/**
 * Databases for tests. By default a throwaway in-memory PGlite; with TEST_DATABASE_URL (an admin
 * URL such as postgres://postgres@127.0.0.1:5432/postgres) a fresh `litstatus_test_<hex>`
 * database on that server, dropped again by cleanup(). TEST_REQUIRE_REAL=1 makes a missing
 * TEST_DATABASE_URL an error instead of a silent fall back to PGlite.
 */
export interface TestDb {
  db: Db;
  kind: "pglite" | "postgres";
  /** The URL of the test database (server Postgres only). */
  url?: string;
  cleanup(): Promise<void>;
}

function adminSql(adminUrl: string) {
  return postgres(adminUrl, { max: 1, connect_timeout: 5, idle_timeout: 5, onnotice: () => {} });
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

async function openPostgres(adminUrl: string, migrated: boolean): Promise<TestDb> {
  const name = `litstatus_test_${randomBytes(6).toString("hex")}`;
  const admin = adminSql(adminUrl);
  try {
    await admin.unsafe(`create database ${quoteIdent(name)}`);
  } finally {
    await admin.end({ timeout: 5 });
  }

  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = createPostgresDb({ url: url.toString(), max: 4 });

  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    try {
      await db.close();
    } finally {
      const dropper = adminSql(adminUrl);
      try {
        await dropper.unsafe(`drop database if exists ${quoteIdent(name)} with (force)`);
      } finally {
        await dropper.end({ timeout: 5 });
      }
    }
  };

  if (migrated) await migrateOrClean(db, cleanup);
  return { db, kind: "postgres", url: url.toString(), cleanup };
}

/** Migrates a fresh test database; when that fails the database is removed before the error is rethrown. */
async function migrateOrClean(db: Db, cleanup: () => Promise<void>): Promise<void> {
  try {
    await migrate(db);
  } catch (error) {
    await cleanup();
    throw error;
  }
}

async function openPglite(migrated: boolean): Promise<TestDb> {
  const db = await openPgliteCopy(migrated);
  let closed = false;
  const cleanup = async () => {
    if (closed) return;
    closed = true;
    await db.close();
  };
  return { db, kind: "pglite", cleanup };
}

function open(migrated: boolean): Promise<TestDb> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (adminUrl) return openPostgres(adminUrl, migrated);
  if (process.env.TEST_REQUIRE_REAL === "1") {
    throw new Error("TEST_DATABASE_URL must be set for the real-store run");
  }
  return openPglite(migrated);
}

/** A fresh database with every migration applied. */
export async function openTestDb(): Promise<TestDb> {
  return open(true);
}

/** A fresh, empty database (no migrations applied): for testing the migrations themselves. */
export async function createScratchDb(): Promise<TestDb> {
  return open(false);
}
