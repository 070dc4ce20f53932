import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "@/e2e/support/harness/app-harness";
import { audited, recordAudit, verifyAuditChain, listAudit, auditRange, type AdminActor } from "./audit";

let app: TestApp;
let actor: AdminActor;

beforeAll(async () => {
  app = await startTestApp();
  const { userId } = await app.signUp("boss@example.test");
  await app.db.query(`update litstatus.profiles set role = 'admin' where user_id = $1`, [userId]);
  actor = { userId, email: "boss@example.test", ip: "203.0.113.1", requestId: "req-audit-1" };
});
afterAll(async () => {
  await app.close();
});

describe(`admin audit log (${process.env.TEST_DATABASE_URL ? "PostgreSQL" : "PGlite"})`, () => {
  it("records who, what, before/after, where and which request; the chain verifies", async () => {
    await recordAudit(actor, { action: "blocklist.add", target: "198.51.100.7", after: { ttlSeconds: 60, reason: "=cmd" } });
    const result = await audited(actor, "user.update", actor.userId, async (tx) => {
      const [before] = await tx.query<{ plan: string }>(`select plan from litstatus.profiles where user_id = $1`, [actor.userId]);
      await tx.query(`update litstatus.profiles set plan = 'pro' where user_id = $1`, [actor.userId]);
      return { result: "done", before: { plan: before?.plan }, after: { plan: "pro" } };
    });
    expect(result).toBe("done");
    const { items, total } = await listAudit({ actor: "BOSS@example.test", limit: 10, offset: 0 });
    expect(total).toBeGreaterThanOrEqual(2);
    expect(items[0]).toMatchObject({
      action: "user.update",
      target: actor.userId,
      before: { plan: "free" },
      after: { plan: "pro" },
      actorId: actor.userId,
      ip: "203.0.113.1",
      requestId: "req-audit-1",
    });
    expect(items[0]!.prevHash).toBe(items[1]!.hash);
    expect(await verifyAuditChain()).toMatchObject({ ok: true });
  });

  it("the data layer refuses a write by anyone but an enabled admin, whatever the route let through", async () => {
    const { userId } = await app.signUp();
    const before = (await auditRange(undefined, undefined)).length;
    await expect(recordAudit({ ...actor, userId }, { action: "test.denied", target: null })).rejects.toMatchObject({ code: "forbidden" });
    await app.db.query(`update litstatus.profiles set role = 'admin', disabled_at = now() where user_id = $1`, [userId]);
    await expect(recordAudit({ ...actor, userId }, { action: "test.denied", target: null })).rejects.toMatchObject({ code: "forbidden" });
    expect((await auditRange(undefined, undefined)).length).toBe(before);
  });

  it("a write that throws leaves neither the change nor an entry", async () => {
    const before = (await auditRange(undefined, undefined)).length;
    await expect(
      audited(actor, "user.update", actor.userId, async (tx) => {
        await tx.query(`update litstatus.profiles set plan = 'free' where user_id = $1`, [actor.userId]);
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect((await auditRange(undefined, undefined)).length).toBe(before);
    const [row] = await app.db.query<{ plan: string }>(`select plan from litstatus.profiles where user_id = $1`, [actor.userId]);
    expect(row?.plan).toBe("pro");
  });

  it("50 concurrent writes leave one valid chain", async () => {
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => recordAudit({ ...actor, requestId: `req-${i}` }, { action: "test.concurrent", target: String(i) })),
    );
    const verify = await verifyAuditChain();
    expect(verify.ok).toBe(true);
    const rows = await auditRange(undefined, undefined);
    expect(new Set(rows.map((r) => r.prevHash)).size).toBe(rows.length);
    expect(verify.rows).toBe(rows.length);
  });

  it("a direct UPDATE of one row is found, and named, by verify", async () => {
    const rows = await auditRange(undefined, undefined);
    const victim = rows[Math.floor(rows.length / 2)]!;
    await app.db.query(`update litstatus.admin_audit_log set target = 'tampered' where id = $1::bigint`, [victim.id]);
    expect(await verifyAuditChain()).toEqual({ ok: false, rows: rows.indexOf(victim) + 1, firstBrokenId: victim.id });
  });
});
