/**
 * Round trips per generation, from `X-Debug-Round-Trips: kv=N; db=M` (DEBUG=litstatus:*). The
 * stores count themselves (every Redis HTTP request, every memory-store operation as its
 * equivalent, every SQL statement with a transaction's BEGIN and COMMIT), so the figures are
 * the same in both modes and exact: one more query or store operation anywhere on the path
 * fails these tests. PRODUCT §10's budget is ≤ 3 kv per miss and ≤ 2 per hit (burst limit +
 * admission + settlement; a hit skips settlement), and no database work at all for guests.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type RequestOptions, type TestApp } from "@/e2e/support/harness/app-harness";
import { afterResponseIdle } from "@/lib/util/after-response";

const real = Boolean(process.env.TEST_REDIS_URL);
const storeMode = real ? "real stores" : "embedded stores";

/**
 * The exact figures. A signed-in user's database trips: auth's profile read (1); on a miss the
 * quota charge transaction (BEGIN, the ledger row with the generation's pending row, the day's
 * counter, COMMIT) and the generation's completion with the quota read-back (one statement); on a
 * hit the cached generation's row with the quota read (one statement). Change them only together
 * with the code that changes them.
 */
const EXPECTED = {
  guestMiss: { kv: 3, db: 0 },
  guestHit: { kv: 2, db: 0 },
  userMiss: { kv: 3, db: 6 },
  userHit: { kv: 2, db: 2 },
} as const;

let seq = 0;
const nextIp = () => `198.51.100.${++seq}`;

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ DEBUG: "litstatus:*" });
  // Warm-up: the first request of a process also reads the blocklist (no snapshot yet) and, on
  // a Redis that has not seen our scripts, pays an EVALSHA → NOSCRIPT → EVAL retry per script.
  for (const text of ["warm-up", "warm-up"]) {
    const res = await app.generate({ text, mode: "standard", lang: "en" }, { ip: nextIp() });
    expect(res.status).toBe(200);
  }
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
  // A miss answers before its settlement lands (settle.ts); it is counted as the request's when
  // it is sent, and reaches the server once this resolves.
  await afterResponseIdle();
  // On real Redis, the HTTP requests the Upstash REST server saw meanwhile: this request's, plus
  // any background ones (the blocklist refresh), so at least the counted figure.
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
  if (restRequests !== undefined) expect(restRequests).toBeGreaterThanOrEqual(trips.kv);
  return trips;
}

describe(`round trips per generation (${storeMode})`, () => {
  it(`a guest: miss kv=${EXPECTED.guestMiss.kv}, hit kv=${EXPECTED.guestHit.kv}, never the database`, async () => {
    const ip = nextIp();
    const body = { text: "round trips for a guest", mode: "standard", lang: "en" };
    const miss = await measure("guest miss", body, { ip });
    const hit = await measure("guest hit", body, { ip });
    expect([miss.cached, hit.cached]).toEqual([false, true]);
    expect({ kv: miss.kv, db: miss.db }).toEqual(EXPECTED.guestMiss);
    expect({ kv: hit.kv, db: hit.db }).toEqual(EXPECTED.guestHit);
    // PRODUCT §10's budget, whatever the exact figures become.
    expect(miss.kv).toBeLessThanOrEqual(3);
    expect(hit.kv).toBeLessThanOrEqual(2);
  });

  it(`a signed-in user: miss kv=${EXPECTED.userMiss.kv} db=${EXPECTED.userMiss.db}, hit kv=${EXPECTED.userHit.kv} db=${EXPECTED.userHit.db}`, async () => {
    const { token } = await app.signUp();
    const body = { text: "round trips for a user", mode: "savage", lang: "en" };
    const miss = await measure("user miss", body, { ip: nextIp(), token });
    const hit = await measure("user hit", body, { ip: nextIp(), token });
    expect([miss.cached, hit.cached]).toEqual([false, true]);
    expect({ kv: miss.kv, db: miss.db }).toEqual(EXPECTED.userMiss);
    expect({ kv: hit.kv, db: hit.db }).toEqual(EXPECTED.userHit);
    expect(miss.kv).toBeLessThanOrEqual(3);
    expect(hit.kv).toBeLessThanOrEqual(2);
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
