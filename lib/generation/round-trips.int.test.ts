/**
 * Round trips per generation, from `X-Debug-Round-Trips: kv=N; db=M` (DEBUG=litstatus:*): the
 * pipeline's budget is the burst rate limit + one admission script + one settlement script on
 * Redis, and no database work at all for guests. The numbers are printed for the lead's report.
 * Embedded stores make no Redis round trips (kv=0), so the kv bounds are asserted on real Redis
 * only; db=0 for guests holds in both modes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type RequestOptions, type TestApp } from "@/lib/testing/app-harness";

const real = Boolean(process.env.TEST_REDIS_URL);
const storeMode = real ? "real stores" : "embedded stores";

let seq = 0;
const nextIp = () => `198.51.100.${++seq}`;

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ DEBUG: "litstatus:*" });
});
afterAll(async () => {
  await app.close();
});

interface Trips {
  kv: number;
  db: number;
  cached: boolean;
}

async function measure(label: string, body: Record<string, unknown>, options: RequestOptions): Promise<Trips> {
  app.rest?.resetRequestCount();
  const res = await app.generate(body, options);
  expect(res.status).toBe(200);
  // On real Redis, the HTTP requests the Upstash REST server saw for this request: the counted
  // operations plus any NOSCRIPT → EVAL retry (the first use of a script after a Redis restart).
  const restRequests = app.rest?.requestCount();
  const header = res.headers.get("x-debug-round-trips");
  const match = /^kv=(\d+); db=(\d+)$/.exec(header ?? "");
  expect(match, `X-Debug-Round-Trips: ${header}`).not.toBeNull();
  const { cached } = (await res.json()) as { cached: boolean };
  const trips = { kv: Number(match![1]), db: Number(match![2]), cached };
  console.log(
    `round trips (${storeMode}) ${label}: kv=${trips.kv} db=${trips.db}` +
      (restRequests === undefined ? "" : ` (Upstash REST requests: ${restRequests})`),
  );
  return trips;
}

describe(`round trips per generation (${storeMode})`, () => {
  it("a guest: miss ≤ 3 kv, hit ≤ 2 kv, never the database", async () => {
    const ip = nextIp();
    const body = { text: "round trips for a guest", mode: "standard", lang: "en" };
    const miss = await measure("guest miss", body, { ip });
    const hit = await measure("guest hit", body, { ip });
    expect([miss.cached, hit.cached]).toEqual([false, true]);
    expect(miss.db).toBe(0);
    expect(hit.db).toBe(0);
    if (real) {
      expect(miss.kv).toBeLessThanOrEqual(3);
      expect(hit.kv).toBeLessThanOrEqual(2);
    } else {
      expect([miss.kv, hit.kv]).toEqual([0, 0]);
    }
  });

  it("a signed-in user: miss ≤ 3 kv, hit ≤ 2 kv (plus the quota's own database trips)", async () => {
    const { token } = await app.signUp();
    const body = { text: "round trips for a user", mode: "savage", lang: "en" };
    const miss = await measure("user miss", body, { ip: nextIp(), token });
    const hit = await measure("user hit", body, { ip: nextIp(), token });
    expect([miss.cached, hit.cached]).toEqual([false, true]);
    // Reserve + read back the quota on a miss; only the read on a hit (counted ones: auth's are not).
    expect(miss.db).toBeLessThanOrEqual(3);
    expect(hit.db).toBeLessThanOrEqual(1);
    if (real) {
      expect(miss.kv).toBeLessThanOrEqual(3);
      expect(hit.kv).toBeLessThanOrEqual(2);
    }
  });

  it("the header is absent without DEBUG", async () => {
    const env = (await import("@/lib/env")).getEnv();
    const debug = env.DEBUG;
    env.DEBUG = undefined;
    try {
      const res = await app.generate({ text: "no debug header", mode: "standard", lang: "en" }, { ip: nextIp() });
      expect(res.status).toBe(200);
      expect(res.headers.get("x-debug-round-trips")).toBeNull();
    } finally {
      env.DEBUG = debug;
    }
  });
});
