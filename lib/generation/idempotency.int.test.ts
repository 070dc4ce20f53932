/**
 * `Idempotency-Key` on POST /api/generate: a repeated key (in sequence or concurrently) gets the
 * first answer and is charged once; another key is a new request; a failure is not remembered,
 * so retrying it with the same key after the fault clears succeeds, still charged once in all.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "@/e2e/support/harness/app-harness";
import { envForBlock } from "@/e2e/support/harness/env-block";
import { utcDay } from "@/lib/quota";
import { reserveUserQuota } from "@/lib/quota/user-quota";
import { generationIdFor, idempotencyLock, LOCK_LEASE_MS, withIdempotency } from "./idempotency";
import { sha256 } from "./keys";

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
const log = (message: string) => console.log(`[idempotency ${storeMode}] ${message}`);

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

const userUsage = (userId: string) => app.userUsage(userId);

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

/**
 * Exactness whatever the timing. The old lock lived OPENAI_TIMEOUT_MS + GEN_QUEUE_TIMEOUT_MS
 * (here 1500 + 100 = 1600 ms) from the first request. The model call is bounded by
 * OPENAI_TIMEOUT_MS itself, so what outlives that lifetime is the rest of the work: here a slow
 * charge (an AFTER INSERT trigger on the ledger sleeps 1 s per charge; on PGlite it
 * stalls the whole process, like a long GC pause) followed by a model answering in 1200 ms.
 * The work takes ≥ 2.2 s > 1.6 s: the old code let the retries in after 1.6 s (a second charge
 * and model call) and gave up waiting at 1.6 s (503 busy). The lock now lasts as long as the work.
 */
describe(`Idempotency-Key, work slower than the old lock lifetime (${storeMode})`, () => {
  const MODEL_MS = 1200;
  const CHARGE_MS = 1000;
  const OLD_LOCK_MS = 1500 + 100;
  envForBlock({ OPENAI_TIMEOUT_MS: 1500, GEN_QUEUE_TIMEOUT_MS: 100 });
  beforeAll(async () => {
    await app.db.exec(`
      create function litstatus.test_slow_charge() returns trigger language plpgsql as $$
      begin perform pg_sleep(${CHARGE_MS / 1000}); return null; end $$;
      create trigger test_slow_charge after insert on litstatus.usage_ledger for each row
        when (new.kind = 'charge') execute function litstatus.test_slow_charge();`);
  });
  afterAll(async () => {
    await app.db.exec(`drop trigger test_slow_charge on litstatus.usage_ledger; drop function litstatus.test_slow_charge();`);
  });
  beforeEach(() => {
    app.fake.set({ latencyMs: MODEL_MS });
  });

  /** Not `regenerate`: the single flight is bypassed too, so only the key can stop a second call. */
  const slowInput = (what: string) => input(`slow ${what}`);

  it("a signed-in user, 5 concurrent retries: one model call, one charge, one answer", async () => {
    const { userId, token } = await app.signUp();
    const key = nextKey();
    const body = slowInput("user concurrent");
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 5 }, () => send(body, key, { ip: nextIp(), token })));
    const ms = Date.now() - started;
    expect(ms).toBeGreaterThan(OLD_LOCK_MS + 300);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    const usage = await userUsage(userId);
    log(`user, 5 concurrent, work ${ms} ms: model calls ${app.fake.stats().chatCalls}, ledger charges ${usage.charges}, used ${usage.used}`);
    expect(app.fake.stats().chatCalls).toBe(1);
    expect(usage).toEqual({ used: 1, charges: 1, refunds: 0 });
  });

  it("a signed-in user, a retry sent after the old lock would have expired (the first still running): one call, one charge", async () => {
    const { userId, token } = await app.signUp();
    const key = nextKey();
    const body = slowInput("user sequential");
    const first = send(body, key, { ip: nextIp(), token });
    await sleep(OLD_LOCK_MS + 200);
    const second = send(body, key, { ip: nextIp(), token });
    const [a, b] = await Promise.all([first, second]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(b.body.id).toBe(a.body.id);
    const third = await send(body, key, { ip: nextIp(), token });
    expect(third.body.id).toBe(a.body.id);
    const usage = await userUsage(userId);
    log(`user, 3 sequential retries: model calls ${app.fake.stats().chatCalls}, ledger charges ${usage.charges}, used ${usage.used}`);
    expect(app.fake.stats().chatCalls).toBe(1);
    expect(usage).toEqual({ used: 1, charges: 1, refunds: 0 });
  });

  it("a guest, 5 concurrent retries then 2 sequential ones: one model call, quota used once", async () => {
    const ip = nextIp();
    const key = nextKey();
    const body = slowInput("guest");
    const results = await Promise.all(Array.from({ length: 5 }, () => send(body, key, { ip })));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    for (let i = 0; i < 2; i++) results.push(await send(body, key, { ip }));
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    const used = await guestUsed(ip);
    log(`guest, 5 concurrent + 2 sequential: model calls ${app.fake.stats().chatCalls}, guest quota used ${used}`);
    expect(app.fake.stats().chatCalls).toBe(1);
    expect(used).toBe(1);
  });
});

describe(`Idempotency-Key, the request behind the key (${storeMode})`, () => {
  it("the same key with a different body after the first finished: 400 invalid_input saying so, nothing spent", async () => {
    const { userId, token } = await app.signUp();
    const key = nextKey();
    const first = await send(input("first body"), key, { ip: nextIp(), token });
    expect(first.status).toBe(200);
    const other = await send({ ...input("other body"), mode: "savage" }, key, { ip: nextIp(), token });
    expect(other.status).toBe(400);
    expect(other.body.error.code).toBe("invalid_input");
    expect((other.body as unknown as { error: { message: string } }).error.message).toMatch(/different request/i);
    expect(app.fake.stats().chatCalls).toBe(1);
    expect(await userUsage(userId)).toEqual({ used: 1, charges: 1, refunds: 0 });
  });

  it("the same key with a different body while the first is running: 400 at once", async () => {
    app.fake.set({ latencyMs: 600 });
    const ip = nextIp();
    const key = nextKey();
    const first = send(input("running body"), key, { ip });
    await sleep(150);
    const started = Date.now();
    const other = await send(input("another running body"), key, { ip });
    expect(Date.now() - started).toBeLessThan(400);
    expect({ status: other.status, code: other.body.error?.code }).toEqual({ status: 400, code: "invalid_input" });
    expect((await first).status).toBe(200);
    expect(app.fake.stats().chatCalls).toBe(1);
    expect(await guestUsed(ip)).toBe(1);
  });

  it("the stored answer is gone (expired, Redis lost): the user's row answers the retry, no call, no charge; another body is refused", async () => {
    const { userId, token } = await app.signUp();
    const key = nextKey();
    const body = input("answer from the row");
    const first = await send(body, key, { ip: nextIp(), token });
    expect(first.status).toBe(200);
    await app.kv.cacheDelete(`idem:${sha256(`user:${userId}`, key)}`);
    const retried = await send(body, key, { ip: nextIp(), token });
    expect(retried.status).toBe(200);
    expect({ id: retried.body.id, caption: retried.body.caption }).toEqual({ id: first.body.id, caption: first.body.caption });
    expect(app.fake.stats().chatCalls).toBe(1);
    expect(await userUsage(userId)).toEqual({ used: 1, charges: 1, refunds: 0 });
    await app.kv.cacheDelete(`idem:${sha256(`user:${userId}`, key)}`);
    const other = await send({ ...body, text: `${body.text} changed` }, key, { ip: nextIp(), token });
    expect({ status: other.status, code: other.body.error?.code }).toEqual({ status: 400, code: "invalid_input" });
  });

  it("a holder that died after charging (charge and pending row, no answer): the retry does the work on that charge", async () => {
    const { userId, token } = await app.signUp();
    const key = nextKey();
    const body = input("crashed holder");
    const scope = `user:${userId}`;
    const id = generationIdFor(scope, key);
    // What a holder leaves when its process dies between the charge and the answer.
    const crashed = await reserveUserQuota(app.db, {
      userId,
      day: utcDay(Date.now()),
      limit: 20,
      idempotencyKey: `idem:${sha256(scope, key)}`,
      generation: { id, mode: body.mode, lang: body.lang, platform: null, inputText: body.text, inputHash: "x", hasImage: false, requestId: "crashed", createdAt: new Date() },
    });
    expect(crashed).toMatchObject({ allowed: true, replay: false });
    const retried = await send(body, key, { ip: nextIp(), token });
    expect(retried.status).toBe(200);
    expect(retried.body.id).toBe(id);
    expect(app.fake.stats().chatCalls).toBe(1);
    expect(await userUsage(userId)).toEqual({ used: 1, charges: 1, refunds: 0 });
    const [row] = await app.db.query<{ status: string }>(`select status from litstatus.generations where id = $1`, [id]);
    expect(row?.status).toBe("complete");
  });
});

describe(`the idempotency lock (${storeMode})`, () => {
  it("only its holder releases it: another holder's release leaves it held", async () => {
    const lockKey = `idem:test-lock:${nextKey()}`;
    const a = idempotencyLock(lockKey, "holder-a");
    const b = idempotencyLock(lockKey, "holder-b");
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    await b.release();
    expect(await b.acquire()).toBe(false);
    expect(await a.acquire()).toBe(true); // the holder renews
    await a.release();
    expect(await b.acquire()).toBe(true);
    await b.release();
  });

  it("lasts as long as the work (renewed), far beyond its lease: a concurrent retry waits and gets the one result", async () => {
    let runs = 0;
    const options = { scope: "test", key: nextKey(), fingerprint: "f", waitMs: 0 };
    const work = async () => {
      runs += 1;
      await sleep(LOCK_LEASE_MS * 2.5);
      return { run: runs };
    };
    const first = withIdempotency(options, work);
    await sleep(LOCK_LEASE_MS * 1.5); // past the first lease: only renewals keep the lock
    const second = await withIdempotency(options, work);
    expect(await first).toEqual({ run: 1 });
    expect(second).toEqual({ run: 1 });
    expect(runs).toBe(1);
  }, 15_000);
});
