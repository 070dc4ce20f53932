/**
 * The blocklist on every instance: two app processes on one database and one Redis, each
 * trusting X-Forwarded-For (one hop: this test plays the proxy), so a request can come "from"
 * any client. An admin blocks a client through A's admin API; B must refuse that client with
 * 403 ip_blocked within 1 s (it re-reads the shared list every BLOCKLIST_REFRESH_MS); after the
 * unblock on A, B must serve it again within 1 s. The times are measured and printed. Real
 * stores only (two processes cannot share an embedded database or in-memory store).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnAppServer, type SpawnedAppServer } from "@/e2e/support/app-server";
import { startFakeOpenAI, type FakeOpenAIServer } from "@/e2e/support/fake-openai";
import { realStoreServerEnv, TEST_AUTH_SECRET } from "@/e2e/support/harness/app-harness";
import { openTestDb, type TestDb } from "@/e2e/support/harness/stores-db";
import { openTestKv, type TestKv } from "@/e2e/support/harness/stores-kv";
import { signSessionToken } from "@/lib/auth/tokens";

const real = Boolean(process.env.TEST_REDIS_URL && process.env.TEST_DATABASE_URL);
const LIMIT_MS = 1000;
const ROUNDS = 5;

describe.skipIf(!real)("the blocklist on two app instances sharing one Redis", () => {
  let fake: FakeOpenAIServer;
  let kv: TestKv;
  let db: TestDb;
  let a: SpawnedAppServer;
  let b: SpawnedAppServer;
  let adminToken: string;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    kv = await openTestKv();
    db = await openTestDb();
    const env = { ...realStoreServerEnv({ db, kv, fake }), TRUST_PROXY_HEADER: "x-forwarded-for", TRUST_PROXY_HOPS: "1" };
    [a, b] = await Promise.all([spawnAppServer({ env }), spawnAppServer({ env })]);
    const email = `blocklist-admin-${Date.now().toString(36)}@example.test`;
    const [row] = await db.db.query<{ id: string }>(`insert into auth.users (email) values ($1) returning id`, [email]);
    await db.db.query(`update litstatus.profiles set role = 'admin' where user_id = $1`, [row!.id]);
    adminToken = await signSessionToken({ sub: row!.id, email }, TEST_AUTH_SECRET, 3600);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([a, b].filter(Boolean).map((s) => s.stop()));
    await fake?.close();
    await kv?.cleanup();
    await db?.cleanup();
  });

  /** A request from `client` (the right-most X-Forwarded-For entry, behind one trusted hop). */
  const from = (server: SpawnedAppServer, client: string, path = "/api/health", init: RequestInit = {}) =>
    fetch(`${server.url}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), "x-forwarded-for": client } });

  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${a.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  async function code(res: Response): Promise<string | undefined> {
    const body = (await res.json().catch(() => null)) as { error?: { code?: string } } | null;
    return body?.error?.code;
  }

  /** Polls `client` on `server` until `done` says so; the time it took (ms), or null after 3 s. */
  async function until(server: SpawnedAppServer, client: string, done: (status: number, code?: string) => boolean, since: number): Promise<number | null> {
    while (performance.now() - since < 3000) {
      const res = await from(server, client);
      const status = res.status;
      const errorCode = status === 200 ? undefined : await code(res);
      if (status === 200) await res.body?.cancel();
      if (done(status, errorCode)) return performance.now() - since;
      await new Promise((r) => setTimeout(r, 5));
    }
    return null;
  }

  it(`block on A: B refuses the client within ${LIMIT_MS} ms; unblock on A: B serves it again within ${LIMIT_MS} ms`, async () => {
    const blockTimes: number[] = [];
    const unblockTimes: number[] = [];
    const bystander = "198.51.100.250";
    for (let round = 1; round <= ROUNDS; round += 1) {
      const client = `198.51.100.${60 + round}`;
      // Both instances serve the client before (and have a snapshot of the list already).
      expect((await from(a, client)).status).toBe(200);
      expect((await from(b, client)).status).toBe(200);

      const added = await admin("POST", "/api/admin/blocklist", { ip: client, reason: `two-instance round ${round}`, ttlSeconds: 600 });
      const blockedAt = performance.now();
      expect(added.status).toBe(201);
      const entry = (await added.json()) as { id: string; target: string };
      expect(entry.target).toBe(client);
      // A enforces its own change at once.
      const onA = await from(a, client);
      expect(onA.status).toBe(403);
      expect(await code(onA)).toBe("ip_blocked");

      const blockMs = await until(b, client, (status, c) => status === 403 && c === "ip_blocked", blockedAt);
      expect(blockMs, `round ${round}: B still serves ${client} 3 s after the block`).not.toBeNull();
      blockTimes.push(blockMs!);
      // Every route on B refuses it (before auth, rate limits or input); other clients are served.
      const generate = await from(b, client, "/api/generate", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      expect(generate.status).toBe(403);
      expect(await code(generate)).toBe("ip_blocked");
      expect((await from(b, bystander)).status).toBe(200);

      const removed = await admin("DELETE", `/api/admin/blocklist?id=${entry.id}`);
      const unblockedAt = performance.now();
      expect(removed.status).toBe(200);
      expect((await from(a, client)).status).toBe(200);
      const unblockMs = await until(b, client, (status) => status === 200, unblockedAt);
      expect(unblockMs, `round ${round}: B still refuses ${client} 3 s after the unblock`).not.toBeNull();
      unblockTimes.push(unblockMs!);
    }
    const fmt = (xs: number[]) => `${xs.map((x) => x.toFixed(0)).join(", ")} ms (max ${Math.max(...xs).toFixed(0)} ms)`;
    console.log(`blocklist propagation A → B, block (POST answered → B says 403 ip_blocked): ${fmt(blockTimes)}`);
    console.log(`blocklist propagation A → B, unblock (DELETE answered → B says 200): ${fmt(unblockTimes)}`);
    for (const ms of [...blockTimes, ...unblockTimes]) expect(ms).toBeLessThan(LIMIT_MS);

    // Both writes of every round are in the audit log.
    const [audit] = await db.db.query<{ adds: number; removes: number }>(
      `select count(*) filter (where action = 'blocklist.add')::int as adds, count(*) filter (where action = 'blocklist.remove')::int as removes
         from litstatus.admin_audit_log`,
    );
    expect(audit).toEqual({ adds: ROUNDS, removes: ROUNDS });
  }, 60_000);
});
