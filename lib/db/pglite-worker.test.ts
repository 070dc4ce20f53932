import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPgliteWorker, type PgliteSession } from "./pglite-worker";

describe("PGlite on its own thread", () => {
  let pg: PgliteSession;
  beforeAll(async () => {
    pg = await openPgliteWorker(undefined);
    await pg.exec("create table t (id int primary key, note text)");
  });
  afterAll(async () => {
    await pg.close();
  });

  it("answers rows with PostgreSQL's types (int8 as a number, timestamptz as a Date, bytea as bytes)", async () => {
    const { rows } = await pg.query<{ n: number; at: Date; b: Uint8Array; j: unknown }>(
      "select 9007199254740::int8 as n, now() as at, '\\x0102'::bytea as b, $1::jsonb as j",
      ['{"a":[1,2]}'],
    );
    expect(rows[0]?.n).toBe(9007199254740);
    expect(rows[0]?.at).toBeInstanceOf(Date);
    expect([...(rows[0]?.b ?? [])]).toEqual([1, 2]);
    expect(rows[0]?.j).toEqual({ a: [1, 2] });
  });

  it("passes PostgreSQL's error fields through (SQLSTATE code, constraint)", async () => {
    await pg.query("insert into t values (1, 'one')");
    const error = await pg.query("insert into t values (1, 'again')").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ code: "23505", constraint: "t_pkey" });
    await expect(pg.query("select 1 / 0")).rejects.toMatchObject({ code: "22012" });
  });

  it("holds other statements back while a transaction owns the session, then runs them in order", async () => {
    const order: string[] = [];
    let outside: Promise<unknown> | undefined;
    await pg.transaction(async (tx) => {
      await tx.query("insert into t values (2, 'in tx')");
      outside = pg.query<{ n: number }>("select count(*)::int as n from t where id = 2").then(({ rows }) => {
        order.push(`outside saw ${rows[0]?.n}`);
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      order.push("tx still open");
      await tx.query("update t set note = 'committed' where id = 2");
    });
    await outside;
    expect(order).toEqual(["tx still open", "outside saw 1"]);
    expect((await pg.query<{ note: string }>("select note from t where id = 2")).rows[0]?.note).toBe("committed");
  });

  it("rolls back when the work throws, and the session is free afterwards", async () => {
    await expect(
      pg.transaction(async (tx) => {
        await tx.query("insert into t values (3, 'never')");
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    expect((await pg.query("select * from t where id = 3")).rows).toEqual([]);
    // A transaction whose statement failed is rolled back too.
    await expect(pg.transaction((tx) => tx.query("insert into t values (1, 'dup')"))).rejects.toMatchObject({ code: "23505" });
    expect((await pg.query<{ n: number }>("select count(*)::int as n from t")).rows[0]?.n).toBe(2);
  });

  it("dumps its data directory, and a database opened from the dump has the same rows and is its own", async () => {
    const dump = await pg.dump();
    expect(dump.byteLength).toBeGreaterThan(1_000_000);
    const copy = await openPgliteWorker(undefined, dump);
    try {
      const rows = async (session: PgliteSession) => (await session.query<{ id: number; note: string }>("select id, note from t order by id")).rows;
      expect(await rows(copy)).toEqual(await rows(pg));
      await copy.query("insert into t values (9, 'only in the copy')");
      expect((await pg.query("select * from t where id = 9")).rows).toEqual([]);
    } finally {
      await copy.close();
    }
  });

  it("refuses statements after close with an error, not a hang", async () => {
    const other = await openPgliteWorker(undefined);
    await other.close();
    await expect(other.query("select 1")).rejects.toThrow(/stopped/);
  });
});
