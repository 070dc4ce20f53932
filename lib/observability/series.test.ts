/**
 * The shared per-minute series: aggregation and percentile maths (unit), and two writers (two
 * "instances") on one store reading the same numbers — on Redis through the Upstash-REST test
 * server when TEST_REDIS_URL is set, on the memory store otherwise.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestKv, TEST_KV_TIMEOUT_MS, type TestKv } from "@/e2e/support/harness/stores-kv";
import { createMemoryStore } from "@/lib/kv/memory-store";
import type { KvStore } from "@/lib/kv/types";
import { createUpstashStore } from "@/lib/kv/upstash-store";
import { runWithRequestStats } from "./request-stats";
import {
  BUCKETS,
  bucketOf,
  createSeriesWriter,
  GAUGE_FRESH_MS,
  LATENCY_BOUNDS_MS,
  percentileMs,
  readGauges,
  readSeries,
  sumPoints,
} from "./series";

const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);

function hist(counts: Record<number, number>): number[] {
  const buckets = new Array<number>(BUCKETS).fill(0);
  for (const [i, n] of Object.entries(counts)) buckets[Number(i)] = n;
  return buckets;
}

describe("latency buckets and percentiles", () => {
  it("puts a latency in the first bucket whose upper bound holds it (bounds inclusive), else +Inf", () => {
    expect(LATENCY_BOUNDS_MS).toEqual([5, 10, 25, 50, 100, 250, 500, 1000, 2000, 5000]);
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(5)).toBe(0);
    expect(bucketOf(6)).toBe(1);
    expect(bucketOf(2000)).toBe(8);
    expect(bucketOf(2001)).toBe(9);
    expect(bucketOf(5000)).toBe(9);
    expect(bucketOf(5001)).toBe(10);
  });

  it("reads a quantile as the upper bound of the bucket holding the ceil(p·n)-th request", () => {
    expect(percentileMs(hist({}), 0.5)).toBeNull();
    // 100 requests: 95 at <= 100 ms, 5 at <= 2000 ms. p95 = the 95th → 100; p96 → 2000.
    const h = hist({ 4: 95, 8: 5 });
    expect(percentileMs(h, 0.5)).toBe(100);
    expect(percentileMs(h, 0.95)).toBe(100);
    expect(percentileMs(h, 0.96)).toBe(2000);
    // One more slow request pushes the 95th into the slow bucket.
    expect(percentileMs(hist({ 4: 94, 8: 6 }), 0.95)).toBe(2000);
    // The +Inf bucket reads as the largest bound.
    expect(percentileMs(hist({ 10: 1 }), 0.5)).toBe(5000);
    expect(percentileMs(hist({ 0: 1 }), 1)).toBe(5);
  });
});

describe("series writer", () => {
  it("adds requests up per UTC minute in process and writes nothing until flushed", async () => {
    let t = T0 + 10_000;
    const kv = createMemoryStore({ now: () => t });
    const w = createSeriesWriter({ kv: () => kv, now: () => t });
    w.observe({ route: "a", method: "GET", status: 200, ms: 3 });
    w.observe({ route: "a", method: "GET", status: 503, ms: 40 });
    w.observe({ route: "a", method: "GET", status: 429, ms: 7 });
    w.observe({ route: "a", method: "GET", status: 404, ms: 2500.4 });
    t = T0 + 61_000;
    w.observe({ route: "a", method: "POST", status: 201, ms: 120 });
    expect(w.stats().pendingMinutes).toBe(2);
    expect(sumPoints(await readSeries(kv, T0, T0 + 61_000)).requests).toBe(0);

    await w.flush();
    expect(w.stats().pendingMinutes).toBe(0);
    const [m0, m1] = await readSeries(kv, T0, T0 + 61_000);
    expect(m0).toEqual({
      at: T0,
      requests: 4,
      errors: 1,
      clientErrors: 1,
      rateLimited: 1,
      latencySumMs: 3 + 40 + 7 + 2500,
      buckets: hist({ 0: 1, 1: 1, 3: 1, 9: 1 }),
    });
    expect(m1).toMatchObject({ at: T0 + 60_000, requests: 1, errors: 0, buckets: hist({ 5: 1 }) });
  });

  it("costs the request nothing: observing makes no kv round trip", async () => {
    const kv = createMemoryStore();
    const w = createSeriesWriter({ kv: () => kv });
    const run = runWithRequestStats(async () => {
      for (let i = 0; i < 100; i++) w.observe({ route: "a", method: "GET", status: 200, ms: 1 });
    });
    await run.result;
    expect(run.stats.kvRoundTrips).toBe(0);
  });

  it("keeps a bounded buffer: the oldest minutes are dropped when the store cannot take them", async () => {
    let t = T0;
    const failing = { ...createMemoryStore(), hashIncrement: () => Promise.reject(new Error("down")) } as KvStore;
    const w = createSeriesWriter({ kv: () => failing, now: () => t, maxPendingMinutes: 3 });
    for (let m = 0; m < 5; m++) {
      t = T0 + m * 60_000;
      w.observe({ route: "a", method: "GET", status: 200, ms: 1 });
    }
    expect(w.stats()).toEqual({ pendingMinutes: 3, droppedMinutes: 2 });
    await w.flush(); // fails: kept for the next flush
    expect(w.stats().pendingMinutes).toBe(3);
  });

  it("publishes this instance's gauges; readers sum the fresh samples only", async () => {
    let t = T0;
    const kv = createMemoryStore({ now: () => t });
    const a = createSeriesWriter({ kv: () => kv, now: () => t, instance: "a" });
    const b = createSeriesWriter({ kv: () => kv, now: () => t, instance: "b" });
    a.setGaugeSource(() => ({ queued: 2, running: 3 }));
    b.setGaugeSource(() => ({ queued: 1, running: 0 }));
    await a.flush();
    t += GAUGE_FRESH_MS;
    await b.flush();
    expect(await readGauges(kv, t)).toEqual({ queued: 3, running: 3, instances: 2 });
    expect(await readGauges(kv, t + 1)).toEqual({ queued: 1, running: 0, instances: 1 });
  });
});

describe("two instances on one store", () => {
  let testKv: TestKv;
  let second: KvStore;

  beforeAll(async () => {
    testKv = await openTestKv();
    second = testKv.rest
      ? createUpstashStore({ url: testKv.rest.url, token: testKv.rest.token, prefix: testKv.prefix, timeoutMs: TEST_KV_TIMEOUT_MS })
      : testKv.kv;
  });
  afterAll(async () => {
    await testKv.cleanup();
  });

  it(`see the same numbers (${process.env.TEST_REDIS_URL ? "redis" : "memory"})`, async () => {
    const now = Date.now();
    const a = createSeriesWriter({ kv: () => testKv.kv, instance: "a" });
    const b = createSeriesWriter({ kv: () => second, instance: "b" });
    for (let i = 0; i < 30; i++) a.observe({ route: "x", method: "GET", status: i < 3 ? 500 : 200, ms: 20 });
    for (let i = 0; i < 20; i++) b.observe({ route: "x", method: "GET", status: 200, ms: 3000 });
    a.setGaugeSource(() => ({ queued: 4, running: 1 }));
    b.setGaugeSource(() => ({ queued: 2, running: 2 }));
    await Promise.all([a.flush(), b.flush()]);
    // Flushing again adds nothing: what was written is gone from the buffer.
    await Promise.all([a.flush(), b.flush()]);

    const from = now - 60_000;
    const to = Date.now();
    const viaA = sumPoints(await readSeries(testKv.kv, from, to));
    const viaB = sumPoints(await readSeries(second, from, to));
    expect(viaA).toEqual(viaB);
    expect(viaA).toMatchObject({ requests: 50, errors: 3, latencySumMs: 30 * 20 + 20 * 3000 });
    expect(viaA.buckets).toEqual(hist({ 2: 30, 9: 20 }));
    expect(percentileMs(viaA.buckets, 0.5)).toBe(25);
    expect(percentileMs(viaA.buckets, 0.95)).toBe(5000);
    expect(await readGauges(testKv.kv, Date.now())).toEqual({ queued: 6, running: 3, instances: 2 });
    expect(await readGauges(second, Date.now())).toEqual({ queued: 6, running: 3, instances: 2 });
  });
});
