/**
 * The global in-flight cap (GEN_MAX_INFLIGHT): never more model calls at once than the cap,
 * a bounded queue that answers 503 `busy` (refunded) when it runs out, leases always released;
 * and, on real Redis, one cap shared by two app instances running as separate processes.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { spawnAppServer, type SpawnedAppServer } from "@/e2e/support/app-server";
import { startFakeOpenAI, type FakeOpenAIServer } from "@/e2e/support/fake-openai";
import { getEnv } from "@/lib/env";
import { afterResponseIdle } from "@/lib/util/after-response";
import { realStoreServerEnv, startTestApp, type TestApp } from "@/e2e/support/harness/app-harness";
import { openTestDb, type TestDb } from "@/e2e/support/harness/stores-db";
import { openTestKv, type TestKv } from "@/e2e/support/harness/stores-kv";
import { INFLIGHT_KEY } from "./keys";
import { engineGauges } from "./single-flight";
import { envForBlock } from "@/e2e/support/harness/env-block";

interface ErrorBody {
  error: { code: string; message: string; requestId: string };
}
interface QuotaBody {
  quota: { used: number };
}

const storeMode = process.env.TEST_REDIS_URL ? "real stores" : "embedded stores";
const CAP = 5;
const REQUESTS = 60;
const LATENCY_MS = 500;

let seq = 0;
const nextIp = () => `198.51.${100 + Math.floor(seq / 250)}.${(seq++ % 250) + 1}`;

/** One app for the file: an embedded app costs seconds of database start-up. */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ GEN_MAX_INFLIGHT: String(CAP), GUEST_DAILY_LIMIT: "100000", BREAKER_FAILURE_THRESHOLD: "1000" });
});
afterAll(async () => {
  await app.close();
});
beforeEach(() => {
  app.fake.reset();
});


interface Outcome {
  ip: string;
  status: number;
  code?: string;
  retryAfter: string | null;
}

/** `n` concurrent requests, each from its own address with its own text (no cache, no single flight). */
async function burst(n: number, what: string): Promise<Outcome[]> {
  const ips = Array.from({ length: n }, () => nextIp());
  return Promise.all(
    ips.map(async (ip, i) => {
      const res = await app.generate({ text: `${what} number ${i} from ${ip}`, mode: "standard", lang: "en" }, { ip });
      const body = (await res.json()) as Partial<ErrorBody>;
      return { ip, status: res.status, code: body.error?.code, retryAfter: res.headers.get("retry-after") };
    }),
  );
}

/** Polls `condition` every 20 ms; fails after `timeoutMs`. */
async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(20);
  }
}

async function guestUsed(ip: string): Promise<number> {
  return ((await (await app.request("GET", "/api/quota", { ip })).json()) as QuotaBody).quota.used;
}

describe(`global in-flight cap, short queue (${storeMode})`, () => {
  envForBlock({ GEN_QUEUE_TIMEOUT_MS: 300 });

  it(`${REQUESTS} concurrent requests: at most ${CAP} model calls at once, the rest 503 busy and refunded`, async () => {
    app.fake.set({ latencyMs: LATENCY_MS });
    const outcomes = await burst(REQUESTS, "short queue");
    expect(app.fake.stats().peakInFlight).toBeLessThanOrEqual(CAP);

    const ok = outcomes.filter((o) => o.status === 200);
    const busy = outcomes.filter((o) => o.status === 503);
    expect(ok.length + busy.length).toBe(REQUESTS);
    expect(ok.length).toBeGreaterThanOrEqual(CAP);
    expect(busy.length).toBeGreaterThan(0);
    for (const o of busy) {
      expect(o.code).toBe("busy");
      expect(Number(o.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    expect(app.fake.stats().chatCalls).toBe(ok.length);

    const used = await Promise.all(outcomes.map(async (o) => ({ status: o.status, used: await guestUsed(o.ip) })));
    for (const u of used) expect(u.used).toBe(u.status === 200 ? 1 : 0);
    // A success answers before its settlement frees the lease (settle.ts): once those landed.
    await afterResponseIdle();
    expect(await app.kv.leaseCount(INFLIGHT_KEY)).toBe(0);
  });

  it("leases are released when the model fails, too", async () => {
    app.fake.set({ latencyMs: 100, fault: { kind: "status", status: 500 } });
    const outcomes = await burst(20, "failing model");
    expect(app.fake.stats().peakInFlight).toBeLessThanOrEqual(CAP);
    for (const o of outcomes) {
      expect(o.status).toBe(503);
      expect(["upstream_unavailable", "busy"]).toContain(o.code);
    }
    expect(await app.kv.leaseCount(INFLIGHT_KEY)).toBe(0);
    for (const o of outcomes.slice(0, 5)) expect(await guestUsed(o.ip)).toBe(0);
  });

  it("leases are released when the model hangs past the deadline", async () => {
    const env = getEnv();
    const deadline = env.OPENAI_TIMEOUT_MS;
    env.OPENAI_TIMEOUT_MS = 400;
    try {
      app.fake.set({ fault: { kind: "timeout" } });
      const outcomes = await burst(8, "hanging model");
      for (const o of outcomes) expect(o.status).toBe(503);
      expect(await app.kv.leaseCount(INFLIGHT_KEY)).toBe(0);
      // The abandoned upstream requests are really closed (not left running past their lease),
      // a moment after the abort reaches the socket.
      await waitUntil(() => app.fake.stats().inFlight === 0, 3000);
    } finally {
      env.OPENAI_TIMEOUT_MS = deadline;
    }
  });
});

describe(`global in-flight cap, long queue (${storeMode})`, () => {
  envForBlock({ GEN_QUEUE_TIMEOUT_MS: 10_000 });

  it(`${REQUESTS} concurrent requests all succeed, never more than ${CAP} at once`, async () => {
    app.fake.set({ latencyMs: LATENCY_MS });
    const outcomes = await burst(REQUESTS, "long queue");
    expect(outcomes.map((o) => o.status)).toEqual(Array(REQUESTS).fill(200));
    const stats = app.fake.stats();
    expect(stats.peakInFlight).toBeLessThanOrEqual(CAP);
    expect(stats.peakInFlight).toBeGreaterThanOrEqual(2); // it did run in parallel
    expect(stats.chatCalls).toBe(REQUESTS);
    await afterResponseIdle();
    expect(await app.kv.leaseCount(INFLIGHT_KEY)).toBe(0);
  });
});

describe(`global in-flight cap, bounded queue (${storeMode})`, () => {
  const QUEUE_MAX = 2;
  const BEYOND = 3;
  envForBlock({ GEN_QUEUE_TIMEOUT_MS: 30_000, GEN_QUEUE_MAX: QUEUE_MAX });

  it(`with ${QUEUE_MAX} requests waiting, the next ones are busy at once and refunded; the waiting ones are served once slots free`, async () => {
    // Every slot is held in the shared semaphore, as other instances' model calls hold them,
    // until this test lets go: the queue's length, not its timeout, decides who is refused.
    const holders = Array.from({ length: CAP }, (_, i) => `another-instance-${i}:${randomUUID()}`);
    for (const holder of holders) expect((await app.kv.leaseAcquire(INFLIGHT_KEY, holder, CAP, 60_000)).acquired).toBe(true);
    const answered: Outcome[] = [];
    const all = Promise.all(
      Array.from({ length: QUEUE_MAX + BEYOND }, async (_, i) => {
        const ip = nextIp();
        const res = await app.generate({ text: `bounded queue number ${i} from ${ip}`, mode: "standard", lang: "en" }, { ip });
        const body = (await res.json()) as Partial<ErrorBody>;
        const outcome = { ip, status: res.status, code: body.error?.code, retryAfter: res.headers.get("retry-after") };
        answered.push(outcome);
        return outcome;
      }),
    );
    try {
      // The queue fills; the requests beyond it are answered while every slot is still held.
      await waitUntil(() => engineGauges().queued === QUEUE_MAX && answered.length === BEYOND, 20_000);
      expect(answered.map((o) => [o.status, o.code, o.retryAfter])).toEqual(Array(BEYOND).fill([503, "busy", "2"]));
      for (const o of answered) expect(await guestUsed(o.ip)).toBe(0);
      expect(app.fake.stats().chatCalls).toBe(0);
    } finally {
      for (const holder of holders) await app.kv.leaseRelease(INFLIGHT_KEY, holder);
    }
    // The waiting ones get their slots now, and their captions.
    const outcomes = await all;
    expect(outcomes.filter((o) => o.status === 200)).toHaveLength(QUEUE_MAX);
    expect(app.fake.stats().chatCalls).toBe(QUEUE_MAX);
    for (const o of outcomes) expect(await guestUsed(o.ip)).toBe(o.status === 200 ? 1 : 0);
    await afterResponseIdle();
    expect(await app.kv.leaseCount(INFLIGHT_KEY)).toBe(0);
  });
});

describe.skipIf(!process.env.TEST_REDIS_URL)("one cap shared by two app instances on one Redis (real stores)", () => {
  let fake: FakeOpenAIServer;
  let kv: TestKv;
  let db: TestDb;
  let servers: SpawnedAppServer[] = [];

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    kv = await openTestKv();
    db = await openTestDb();
    const env = {
      ...realStoreServerEnv({ db, kv, fake }),
      GEN_MAX_INFLIGHT: String(CAP),
      GEN_QUEUE_TIMEOUT_MS: "3000",
      GUEST_DAILY_LIMIT: "100000",
      // Each request plays a distinct client behind a trusted proxy.
      TRUST_PROXY_HEADER: "x-forwarded-for",
    };
    servers = await Promise.all([spawnAppServer({ env }), spawnAppServer({ env })]);
  }, 90_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await fake?.close();
    await kv?.cleanup();
    await db?.cleanup();
  });

  it(`${REQUESTS} concurrent requests split across both: at most ${CAP} model calls at once in total`, async () => {
    fake.set({ latencyMs: LATENCY_MS });
    const outcomes = await Promise.all(
      Array.from({ length: REQUESTS }, async (_, i) => {
        const server = servers[i % 2]!;
        const ip = nextIp();
        const res = await fetch(`${server.url}/api/generate`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-forwarded-for": ip },
          body: JSON.stringify({ text: `two instances request ${i}`, mode: "standard", lang: "en" }),
        });
        const body = (await res.json()) as Partial<ErrorBody>;
        return { instance: i % 2, status: res.status, code: body.error?.code };
      }),
    );
    const stats = fake.stats();
    expect(stats.peakInFlight).toBeLessThanOrEqual(CAP);
    expect(stats.peakInFlight).toBeGreaterThanOrEqual(2);
    for (const o of outcomes) {
      if (o.status !== 200) expect({ status: o.status, code: o.code }).toEqual({ status: 503, code: "busy" });
    }
    const ok = outcomes.filter((o) => o.status === 200);
    expect(ok.length).toBeGreaterThanOrEqual(CAP);
    expect(stats.chatCalls).toBe(ok.length);
    // Both instances served, from the one shared semaphore.
    expect(new Set(ok.map((o) => o.instance)).size).toBe(2);
    console.log(
      `two instances: ${ok.length} ok, ${REQUESTS - ok.length} busy, peak in flight ${stats.peakInFlight} (cap ${CAP})`,
    );
    // Each instance frees a success's lease a round trip after answering (settle.ts).
    let leases = -1;
    for (let waited = 0; waited < 2_000 && leases !== 0; waited += 20) {
      leases = await kv.kv.leaseCount(INFLIGHT_KEY);
      if (leases !== 0) await sleep(20);
    }
    expect(leases).toBe(0);
  }, 60_000);
});
