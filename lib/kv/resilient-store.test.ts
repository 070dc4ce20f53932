import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { openTestKv, type TestKv } from "@/e2e/support/harness/stores-kv";
import { runWithRequestStats } from "@/lib/observability/request-stats";
import { createMemoryStore } from "./memory-store";
import { createResilientStore, type KvLog } from "./resilient-store";
import type { KvStore } from "./types";
import { createUpstashStore } from "./upstash-store";

const fakeLog = () => ({ warn: vi.fn<KvLog["warn"]>(), info: vi.fn<KvLog["info"]>() });

/**
 * A memory store posing as the Upstash one, whose every call can be made to fail (`error`) or
 * to wait (`gate`); `calls` counts the calls that reached it.
 */
function controllablePrimary() {
  const backing = createMemoryStore();
  const control = { error: null as Error | null, gate: null as Promise<void> | null, calls: 0 };
  const primary = new Proxy<KvStore>(
    { ...backing, kind: "upstash" },
    {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== "function") return value;
        return async (...args: unknown[]) => {
          control.calls++;
          if (control.gate) await control.gate;
          if (control.error) throw control.error;
          const result: unknown = await Reflect.apply(value, target, args);
          return result;
        };
      },
    },
  );
  return { primary, backing, control };
}

describe("resilient store with a fake primary", () => {
  let t: number;
  let primary: ReturnType<typeof controllablePrimary>;
  let fallback: KvStore;
  let log: ReturnType<typeof fakeLog>;
  let kv: ReturnType<typeof createResilientStore>;

  beforeEach(() => {
    t = 1_000_000;
    primary = controllablePrimary();
    fallback = createMemoryStore({ now: () => t });
    log = fakeLog();
    kv = createResilientStore({ primary: primary.primary, fallback, retryAfterMs: 5000, now: () => t, log });
  });

  const goDown = async (): Promise<void> => {
    primary.control.error = new Error("connect ECONNREFUSED");
    await kv.cacheGet("trip");
  };

  it("uses the primary while it answers and reports its kind", async () => {
    await kv.cacheSet("k", "v", 60);
    expect(await kv.cacheGet("k")).toBe("v");
    expect(await primary.backing.cacheGet("k")).toBe("v");
    expect(await fallback.cacheGet("k")).toBeNull();
    expect(kv.kind).toBe("upstash");
    expect(kv.status()).toEqual({ mode: "primary" });
    await expect(kv.ping()).resolves.toBeUndefined();
  });

  it("adds no round trip of its own: one operation on a healthy primary counts once", async () => {
    const run = runWithRequestStats(async () => {
      await kv.cacheSet("k", "v", 60);
      await kv.cacheGet("k");
      await kv.leaseList("l");
    });
    await run.result;
    expect(run.stats.kvRoundTrips).toBe(3);
  });

  it("serves the blocklist from the fallback while the primary is down", async () => {
    const entry = { id: "b1", target: "203.0.113.7", reason: "r", createdBy: null, createdAtMs: t, expiresAtMs: t + 60_000 };
    await kv.blocklistAdd(entry);
    expect(await kv.blocklistList(t)).toEqual([entry]);
    await goDown();
    expect(await kv.blocklistList(t)).toEqual([]);
    await kv.blocklistAdd({ ...entry, id: "b2" });
    expect(await kv.blocklistList(t)).toEqual([{ ...entry, id: "b2" }]);
    expect(await fallback.blocklistList(t)).toEqual([{ ...entry, id: "b2" }]);
    expect(await kv.blocklistRemove("b2")).toBe(true);
  });

  it("answers a failing operation from the fallback and stays there for retryAfterMs, logging once", async () => {
    primary.control.error = new Error("connect ECONNREFUSED");
    const results = await Promise.all([
      kv.incrementWithinLimit("q", 2, t + 60_000),
      kv.incrementWithinLimit("q", 2, t + 60_000),
      kv.incrementWithinLimit("q", 2, t + 60_000),
    ]);
    expect(results.map((r) => r.allowed)).toEqual([true, true, false]);
    expect(await fallback.counterGet("q")).toBe(2);
    expect(kv.status()).toEqual({ mode: "fallback", since: t, lastError: "connect ECONNREFUSED" });
    expect(log.warn).toHaveBeenCalledTimes(1);

    const callsWhenDown = primary.control.calls;
    t += 4999;
    await kv.cacheSet("k", "v", 60);
    expect(await kv.cacheGet("k")).toBe("v");
    expect(primary.control.calls).toBe(callsWhenDown);
  });

  it("ping always asks the primary and throws while it is down", async () => {
    await goDown();
    await expect(kv.ping()).rejects.toThrow("ECONNREFUSED");
    primary.control.error = null;
    await expect(kv.ping()).resolves.toBeUndefined();
    expect(kv.status().mode).toBe("fallback"); // ping observes; it does not switch modes
  });

  it("after the window a ping that answers is a probe: back on the primary (an idle instance recovers through readiness)", async () => {
    await goDown();
    primary.control.error = null;
    t += 4999;
    await kv.ping();
    expect(kv.status().mode).toBe("fallback");
    t += 1;
    await kv.ping();
    expect(kv.status()).toEqual({ mode: "primary" });
    expect(log.info).toHaveBeenCalledTimes(1);
  });

  it("after the window probes the primary; a failed probe keeps the fallback without logging again", async () => {
    await goDown();
    const calls = primary.control.calls;
    t += 5000;
    await expect(kv.counterGet("c")).resolves.toBe(0);
    expect(primary.control.calls).toBe(calls + 1);
    expect(kv.status()).toMatchObject({ mode: "fallback", since: 1_000_000 });
    expect(log.warn).toHaveBeenCalledTimes(1);

    // The window restarted at the failed probe.
    t += 4999;
    await kv.counterGet("c");
    expect(primary.control.calls).toBe(calls + 1);
  });

  it("switches back on the first success after the window and logs it", async () => {
    await goDown();
    primary.control.error = null;
    t += 5000;
    await primary.backing.cacheSet("k", "from-primary", 60);
    expect(await kv.cacheGet("k")).toBe("from-primary");
    expect(kv.status()).toEqual({ mode: "primary" });
    expect(log.info).toHaveBeenCalledTimes(1);
    expect(log.info.mock.calls[0]?.[0]).toEqual({ downMs: 5000 });
  });

  it("sends one probe at a time; the other operations keep using the fallback", async () => {
    await goDown();
    primary.control.error = null;
    let open!: () => void;
    primary.control.gate = new Promise((resolve) => (open = resolve));
    t += 5000;
    const calls = primary.control.calls;

    const probe = kv.cacheGet("k");
    await fallback.cacheSet("k", "from-fallback", 60);
    expect(await Promise.all([kv.cacheGet("k"), kv.cacheGet("k")])).toEqual(["from-fallback", "from-fallback"]);
    expect(primary.control.calls).toBe(calls + 1);

    primary.control.gate = null;
    open();
    expect(await probe).toBeNull(); // answered by the primary, which has no "k"
    expect(kv.status()).toEqual({ mode: "primary" });
  });

  it("keeps command arguments out of lastError and names a fetch failure's cause", async () => {
    primary.control.error = new Error('ERR boom, command was: ["set","k","secret value"]');
    await kv.cacheGet("a");
    expect(kv.status().lastError).toBe("ERR boom");
    expect(JSON.stringify(log.warn.mock.calls)).not.toContain("secret");

    t += 5000;
    primary.control.error = new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED 127.0.0.1:1") });
    await kv.cacheGet("a");
    expect(kv.status().lastError).toBe("fetch failed: connect ECONNREFUSED 127.0.0.1:1");
  });
});

describe("resilient store over an Upstash store that hangs", () => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    server = createServer(() => {}); // accepts requests and never answers
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("times the request out after timeoutMs and answers from the fallback", async () => {
    const upstash = createUpstashStore({ url, token: "t", timeoutMs: 200 });
    await expect(upstash.cacheGet("k")).rejects.toThrow(/timeout/i);

    const kv = createResilientStore({ primary: upstash, fallback: createMemoryStore(), retryAfterMs: 60_000, log: fakeLog() });
    const started = Date.now();
    expect(await kv.incrementWithinLimit("q", 3, Date.now() + 60_000)).toMatchObject({ allowed: true, count: 1 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(kv.status().mode).toBe("fallback");
    expect(kv.status().lastError).toMatch(/timeout/i);
  });

  it("counts what each store sent and nothing of its own: the timed-out request and the fallback's answer", async () => {
    const upstash = createUpstashStore({ url, token: "t", timeoutMs: 100 });
    const kv = createResilientStore({ primary: upstash, fallback: createMemoryStore(), retryAfterMs: 60_000, log: fakeLog() });
    const failing = runWithRequestStats(() => kv.cacheGet("k"));
    await failing.result;
    expect(failing.stats.kvRoundTrips).toBe(2);
    // On the fallback now: one operation, one count.
    const onFallback = runWithRequestStats(() => kv.cacheGet("k"));
    await onFallback.result;
    expect(onFallback.stats.kvRoundTrips).toBe(1);
  });
});

describe.skipIf(!process.env.TEST_REDIS_URL)("resilient store over the Upstash REST test server", () => {
  let testKv: TestKv;

  beforeAll(async () => {
    testKv = await openTestKv();
  });
  afterAll(async () => {
    await testKv?.cleanup();
  });

  it("falls back while the server is down and returns to Redis once it is back", async () => {
    const rest = testKv.rest;
    if (!rest) throw new Error("expected the Upstash REST test server");
    const log = fakeLog();
    const kv = createResilientStore({ primary: testKv.kv, fallback: createMemoryStore(), retryAfterMs: 300, log });

    await kv.cacheSet("before", "in-redis", 60);
    expect(kv.status()).toEqual({ mode: "primary" });

    await rest.stop();
    await expect(kv.cacheSet("during", "in-memory", 60)).resolves.toBeUndefined();
    expect(await kv.cacheGet("during")).toBe("in-memory");
    expect(await kv.incrementWithinLimit("quota", 3, Date.now() + 60_000)).toMatchObject({ allowed: true, count: 1 });
    expect(await kv.leaseAcquire("lease", "a", 1, 60_000)).toEqual({ acquired: true, holders: 1 });
    expect(kv.status().mode).toBe("fallback");
    expect(kv.status().lastError).toContain("ECONNREFUSED");
    await expect(kv.ping()).rejects.toThrow();
    expect(log.warn).toHaveBeenCalledTimes(1);

    await rest.restart();
    await sleep(350);
    expect(await kv.cacheGet("before")).toBe("in-redis");
    expect(kv.status()).toEqual({ mode: "primary" });
    expect(log.info).toHaveBeenCalledTimes(1);
    await expect(kv.ping()).resolves.toBeUndefined();
    // Per instance: what was written to the fallback stays there.
    expect(await kv.cacheGet("during")).toBeNull();
    expect(await kv.counterGet("quota")).toBe(0);
  });
});
