/**
 * `Idempotency-Key` on POST /api/generate: a repeated key (in sequence or concurrently) gets the
 * first answer and is charged once; another key is a new request; a failure is not remembered,
 * so retrying it with the same key after the fault clears succeeds, still charged once in all.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "@/lib/testing/app-harness";

interface GenerateBody {
  id: string;
  caption: string;
  cached: boolean;
  quota: { used: number };
}
interface ErrorBody {
  error: { code: string };
}
interface QuotaBody {
  quota: { used: number };
}

const storeMode = process.env.TEST_REDIS_URL ? "real stores" : "embedded stores";

let seq = 0;
const nextIp = () => `198.51.100.${++seq}`;
const nextKey = () => `idem-${Date.now().toString(36)}-${++seq}`;

/** One app for the file: an embedded app costs seconds of database start-up. */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ GUEST_DAILY_LIMIT: "10", BREAKER_FAILURE_THRESHOLD: "1000" });
});
afterAll(async () => {
  await app.close();
});
beforeEach(() => {
  app.fake.reset();
});

async function guestUsed(ip: string): Promise<number> {
  return ((await (await app.request("GET", "/api/quota", { ip })).json()) as QuotaBody).quota.used;
}

async function userUsage(userId: string): Promise<{ used: number; charges: number; refunds: number }> {
  const [usage] = await app.db.query<{ used: number }>(`select used from litstatus.usage_daily where user_id = $1`, [userId]);
  const rows = await app.db.query<{ kind: string; n: number }>(
    `select kind, count(*)::int as n from litstatus.usage_ledger where user_id = $1 group by kind`,
    [userId],
  );
  const count = (kind: string) => rows.find((r) => r.kind === kind)?.n ?? 0;
  return { used: usage?.used ?? 0, charges: count("charge"), refunds: count("refund") };
}

/** `regenerate: true` bypasses the cache, so only the key can make a repeat free. */
const input = (what: string) => ({ text: `idempotency ${what} ${++seq}`, mode: "standard", lang: "en", regenerate: true });

async function send(body: unknown, key: string, options: { ip: string; token?: string }) {
  const res = await app.generate(body, { ...options, headers: { "idempotency-key": key } });
  return { status: res.status, body: (await res.json()) as GenerateBody & ErrorBody };
}

describe(`Idempotency-Key (${storeMode})`, () => {
  describe("guests", () => {
    it("the same key twice in a row: the same answer, charged once, one model call", async () => {
      const ip = nextIp();
      const key = nextKey();
      const body = input("guest sequential");
      const first = await send(body, key, { ip });
      const second = await send(body, key, { ip });
      expect(first.status).toBe(200);
      expect(second.status).toBe(200);
      expect(second.body.id).toBe(first.body.id);
      expect(second.body.caption).toBe(first.body.caption);
      expect(app.fake.stats().chatCalls).toBe(1);
      expect(await guestUsed(ip)).toBe(1);
    });

    it("the same key 5 times concurrently: one model call, one answer, charged once", async () => {
      app.fake.set({ latencyMs: 300 });
      const ip = nextIp();
      const key = nextKey();
      const body = input("guest concurrent");
      const results = await Promise.all(Array.from({ length: 5 }, () => send(body, key, { ip })));
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
      expect(new Set(results.map((r) => r.body.caption)).size).toBe(1);
      expect(app.fake.stats().chatCalls).toBe(1);
      expect(await guestUsed(ip)).toBe(1);
    });

    it("a different key is a new request, charged again", async () => {
      const ip = nextIp();
      const body = input("guest two keys");
      const first = await send(body, nextKey(), { ip });
      const second = await send(body, nextKey(), { ip });
      expect([first.status, second.status]).toEqual([200, 200]);
      expect(second.body.id).not.toBe(first.body.id);
      expect(app.fake.stats().chatCalls).toBe(2);
      expect(await guestUsed(ip)).toBe(2);
    });

    it("a key is the caller's own: another address with the same key is not served the first answer", async () => {
      const key = nextKey();
      const body = input("guest scoped");
      const a = await send(body, key, { ip: nextIp() });
      const b = await send(body, key, { ip: nextIp() });
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(b.body.id).not.toBe(a.body.id);
    });

    it("a failed first attempt is not remembered: the retry with the same key succeeds, charged once in all", async () => {
      const ip = nextIp();
      const key = nextKey();
      const body = input("guest failure then retry");
      app.fake.set({ fault: { kind: "status", status: 500 }, faultCount: 2 }); // the attempt and its one retry
      const failed = await send(body, key, { ip });
      expect({ status: failed.status, code: failed.body.error?.code }).toEqual({ status: 503, code: "upstream_unavailable" });
      expect(await guestUsed(ip)).toBe(0);
      const retried = await send(body, key, { ip });
      expect(retried.status).toBe(200);
      expect(retried.body.quota.used).toBe(1);
      const replayed = await send(body, key, { ip });
      expect(replayed.body.id).toBe(retried.body.id);
      expect(app.fake.stats().chatCalls).toBe(3);
      expect(await guestUsed(ip)).toBe(1);
    });
  });

  describe("signed-in users (quota in Postgres)", () => {
    it("the same key twice in a row: charged once, one charge in the ledger", async () => {
      const { userId, token } = await app.signUp();
      const key = nextKey();
      const body = input("user sequential");
      const first = await send(body, key, { ip: nextIp(), token });
      const second = await send(body, key, { ip: nextIp(), token }); // another address, same user
      expect([first.status, second.status]).toEqual([200, 200]);
      expect(second.body.id).toBe(first.body.id);
      expect(app.fake.stats().chatCalls).toBe(1);
      expect(await userUsage(userId)).toEqual({ used: 1, charges: 1, refunds: 0 });
    });

    it("the same key 5 times concurrently: charged once, one charge in the ledger", async () => {
      app.fake.set({ latencyMs: 300 });
      const { userId, token } = await app.signUp();
      const key = nextKey();
      const body = input("user concurrent");
      const results = await Promise.all(Array.from({ length: 5 }, () => send(body, key, { ip: nextIp(), token })));
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
      expect(app.fake.stats().chatCalls).toBe(1);
      expect(await userUsage(userId)).toEqual({ used: 1, charges: 1, refunds: 0 });
    });

    it("a different key is charged again", async () => {
      const { userId, token } = await app.signUp();
      const body = input("user two keys");
      await send(body, nextKey(), { ip: nextIp(), token });
      await send(body, nextKey(), { ip: nextIp(), token });
      expect(await userUsage(userId)).toEqual({ used: 2, charges: 2, refunds: 0 });
    });

    it("two users with the same key each get their own answer", async () => {
      const a = await app.signUp();
      const b = await app.signUp();
      const key = nextKey();
      const body = input("user scoped");
      const ra = await send(body, key, { ip: nextIp(), token: a.token });
      const rb = await send(body, key, { ip: nextIp(), token: b.token });
      expect(rb.body.id).not.toBe(ra.body.id);
      expect((await userUsage(a.userId)).used).toBe(1);
      expect((await userUsage(b.userId)).used).toBe(1);
    });

    it("a failed first attempt then a retry with the same key: charged once in total (charge, refund, charge)", async () => {
      const { userId, token } = await app.signUp();
      const key = nextKey();
      const body = input("user failure then retry");
      app.fake.set({ fault: { kind: "status", status: 500 }, faultCount: 2 });
      const failed = await send(body, key, { ip: nextIp(), token });
      expect(failed.status).toBe(503);
      expect(await userUsage(userId)).toEqual({ used: 0, charges: 1, refunds: 1 });
      const retried = await send(body, key, { ip: nextIp(), token });
      expect(retried.status).toBe(200);
      const replayed = await send(body, key, { ip: nextIp(), token });
      expect(replayed.body.id).toBe(retried.body.id);
      expect(await userUsage(userId)).toEqual({ used: 1, charges: 2, refunds: 1 });
    });
  });
});
