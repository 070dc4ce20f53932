/**
 * Memory stays bounded whatever the number of clients (issue 8 §9): 100,000 distinct client
 * addresses go through the real rate-limited path in process, and every per-client structure
 * stays within its stated bound. Each address is pushed past its limit, so it also leaves the
 * entries a limited client leaves (the ephemeral "blocked until" cache on Redis).
 *
 * Embedded: the in-memory limiter (also Redis's fallback) and the store's in-memory fallback.
 * With TEST_REDIS_URL: @upstash/ratelimit through the Upstash REST test server, its ephemeral
 * caches included.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { deleteKeys } from "@/e2e/support/harness/stores-kv";
import { applyTestEnv } from "@/e2e/support/harness/env";
import { startUpstashRestServer, type UpstashRestServer } from "@/e2e/support/upstash-rest-server";
import { AppError } from "@/lib/errors";
import { createMemoryStore, MEMORY_STORE_MAX_ENTRIES } from "@/lib/kv/memory-store";
import { checkRateLimit, enforceRateLimit, RATE_LIMIT_EPHEMERAL_CACHE_MAX, RATE_LIMIT_MEMORY_MAX_ENTRIES, rateLimiterSizes } from ".";

const CLIENTS = 100_000;
const REDIS_URL = process.env.TEST_REDIS_URL;

/** The n-th distinct client address: 10.0.0.1, 10.0.0.2, … */
const address = (n: number): string => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

/** Runs `work(n)` for n = 1..count, `concurrency` at a time. */
async function forEachClient(count: number, concurrency: number, work: (n: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await work(++next);
    }),
  );
}

/**
 * Requests until one is refused (429) under a limit of 1: the second, or the third when the two
 * straddle a minute (the sliding window then weighs the first one just below 1).
 */
async function exhaust(name: "api" | "signin", ip: string): Promise<void> {
  for (let attempt = 1; attempt <= 3; attempt++) {
    const refused = await enforceRateLimit(name, { ip }).then(
      () => false,
      (error: unknown) => error instanceof AppError && error.code === "rate_limited",
    );
    if (refused) {
      expect(attempt).toBeGreaterThan(1);
      return;
    }
  }
  throw new Error(`${ip} was never limited`);
}

describe("rate limiter memory is bounded (embedded: the in-memory limiter)", () => {
  beforeAll(() => {
    applyTestEnv({ RATE_LIMIT_API_PER_MIN: "1", RATE_LIMIT_SIGNIN_PER_MIN: "1" });
    // One minute window throughout: the store drops a past window's counters as it writes (the
    // bound is what is tested here; lib/kv/memory-store.test.ts tests the dropping).
    vi.useFakeTimers({ toFake: ["Date"], now: Date.UTC(2026, 10, 29, 12, 0, 0) });
  });
  afterAll(() => {
    vi.useRealTimers();
  });

  it(`holds at most ${RATE_LIMIT_MEMORY_MAX_ENTRIES} counters after ${CLIENTS} clients on two limits`, async () => {
    await forEachClient(CLIENTS, 1, async (n) => {
      await exhaust("api", address(n));
      await exhaust("signin", address(n));
    });
    const { memory } = rateLimiterSizes();
    // 200,000 counters were made; the bound holds them to 100,000, the most recent ones.
    expect(memory.entries).toBe(RATE_LIMIT_MEMORY_MAX_ENTRIES);
    expect(memory.leaseKeys).toBe(0);
    expect((await checkRateLimit("signin", `ip:${address(CLIENTS)}`)).allowed).toBe(false);
  });

  it(`the store's in-memory fallback holds at most ${MEMORY_STORE_MAX_ENTRIES} keys after ${CLIENTS} clients' quotas`, async () => {
    const fallback = createMemoryStore();
    const expireAtMs = Date.now() + 60_000;
    for (let n = 1; n <= CLIENTS; n++) {
      await fallback.incrementWithinLimit(`quota:guest:${address(n)}:day`, 3, expireAtMs);
      await fallback.cacheSet(`gen:cache:${n}`, "a caption", 60);
    }
    expect(fallback.sizes().entries).toBe(MEMORY_STORE_MAX_ENTRIES);
    expect(await fallback.counterGet(`quota:guest:${address(CLIENTS)}:day`)).toBe(1);
  });
});

describe.skipIf(!REDIS_URL)("rate limiter memory is bounded (Redis: @upstash/ratelimit)", () => {
  let rest: UpstashRestServer;
  const prefix = `t:${randomBytes(6).toString("hex")}:`;

  beforeAll(async () => {
    rest = await startUpstashRestServer({ redisUrl: REDIS_URL ?? "" });
    applyTestEnv({
      UPSTASH_REDIS_REST_URL: rest.url,
      UPSTASH_REDIS_REST_TOKEN: rest.token,
      REDIS_KEY_PREFIX: prefix,
      REDIS_TIMEOUT_MS: "5000",
      RATE_LIMIT_TIMEOUT_MS: "5000",
      RATE_LIMIT_SIGNIN_PER_MIN: "1",
    });
    // One minute window throughout, as above: a window ending between a client's block and the
    // check below would expire its cache entry and let the sliding window weigh its one request
    // just below the limit (a CI run failed so). Only Date is frozen: timers and sockets run.
    vi.useFakeTimers({ toFake: ["Date"], now: Math.floor(Date.now() / 60_000) * 60_000 + 30_000 });
  });
  afterAll(async () => {
    vi.useRealTimers();
    await rest?.close();
    await deleteKeys(REDIS_URL ?? "", prefix);
  });

  // Past the bound, not all 100,000: each limited client costs Redis 2–3 HTTP requests, and
  // 100,000 of them took over three minutes; the embedded run above covers the 100,000.
  const LIMITED = RATE_LIMIT_EPHEMERAL_CACHE_MAX + 2_000;

  it(`keeps each ephemeral cache within ${RATE_LIMIT_EPHEMERAL_CACHE_MAX} after ${LIMITED} limited clients`, async () => {
    await forEachClient(LIMITED, 64, (n) => exhaust("signin", address(n)));
    const { ephemeral, memory } = rateLimiterSizes();
    expect(ephemeral.signin).toBe(RATE_LIMIT_EPHEMERAL_CACHE_MAX);
    expect(ephemeral.api + ephemeral.generate).toBe(0);
    expect(memory.entries).toBe(0); // Redis answered every time: the fallback was never used
    // The most recent limited clients are still refused from the cache, without a round trip.
    rest.resetRequestCount();
    expect((await checkRateLimit("signin", `ip:${address(LIMITED)}`)).allowed).toBe(false);
    expect(rest.requestCount()).toBe(0);
  }, 120_000);
});
