/**
 * Scenario 3 (issue 12 item 4, docs/RELIABILITY.md): an instance SIGKILLed mid-request.
 *
 * Two production servers share the global in-flight cap (GEN_MAX_INFLIGHT = 2) through Redis.
 * Instance A takes both slots with two slow model calls and is SIGKILLed while they run: it
 * never releases its leases. Instance B is refused (503 busy) while they live, sees them (the
 * console's in-flight list) expire within their TTL, and then runs GEN_MAX_INFLIGHT generations
 * at once again (the fake model's concurrency peak).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LEASE_MARGIN_MS } from "@/lib/generation/admit";
import type { App } from "./support/app";
import { call, caption, outcome } from "./support/http";
import { waitUntil } from "./support/processes";
import { startStack, type Stack } from "./support/stack";

const SCENARIO = 2;
const GEN_MAX_INFLIGHT = 2;
const GEN_QUEUE_TIMEOUT_MS = 300;
const OPENAI_TIMEOUT_MS = 2_000;
/** The slow model: long enough that the kill lands mid-call, short enough for B's calls to finish in time. */
const MODEL_LATENCY_MS = 1_500;
/** A lease's TTL (lib/generation/admit.ts): the request's deadline, its queue wait and a margin. */
const LEASE_TTL_MS = OPENAI_TIMEOUT_MS + GEN_QUEUE_TIMEOUT_MS + LEASE_MARGIN_MS;
/** Bound: the kill → the dead instance's leases gone: their TTL (counted from before the kill) plus slack. */
const FREED_BOUND_MS = LEASE_TTL_MS + 2_000;
/** Bound: A's calls at the fake model once sent (both slots taken). */
const HELD_BOUND_MS = 10_000;

interface Inflight {
  capacity: number;
  count: number;
  items: { holder: string; instance: string; since: string; expires: string }[];
}

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    scenario: SCENARIO,
    instances: 2,
    env: {
      GEN_MAX_INFLIGHT: String(GEN_MAX_INFLIGHT),
      GEN_QUEUE_TIMEOUT_MS: String(GEN_QUEUE_TIMEOUT_MS),
      OPENAI_TIMEOUT_MS: String(OPENAI_TIMEOUT_MS),
      GUEST_DAILY_LIMIT: "1000",
    },
  });
}, 120_000);
afterAll(async () => {
  await stack?.close();
}, 60_000);

describe("an instance SIGKILLed mid-request", () => {
  it("its leases free within their TTL and the survivor gets GEN_MAX_INFLIGHT back", async () => {
    const [a, b] = stack.apps as [App, App];
    const admin = await stack.signUp({ role: "admin" });
    const inflight = async (): Promise<Inflight> => (await call(b.url, "/api/admin/inflight", { token: admin.token })).body as Inflight;
    let seq = 0;
    const miss = (url: string) => call(url, "/api/generate", { json: caption(`killed mid-request ${++seq}`), ip: `198.51.100.${seq}` });

    // A takes both slots with slow calls; both are at the model when it dies.
    stack.fake.set({ latencyMs: MODEL_LATENCY_MS });
    stack.fake.resetStats();
    const beforeAcquire = Date.now();
    const doomed = Array.from({ length: GEN_MAX_INFLIGHT }, () => miss(a.url));
    await waitUntil("A's calls at the model", () => stack.fake.stats().inFlight === GEN_MAX_INFLIGHT, HELD_BOUND_MS);
    const held = await inflight();
    expect(held.count).toBe(GEN_MAX_INFLIGHT);
    expect(new Set(held.items.map((item) => item.instance)).size).toBe(1);
    const killedAt = Date.now();
    const exit = await a.proc.stop("SIGKILL");
    expect(exit.signal).toBe("SIGKILL");
    expect((await Promise.all(doomed)).map((answer) => answer.status)).toEqual(Array<number>(GEN_MAX_INFLIGHT).fill(0));

    // The dead leases still hold the cap: B is refused, although nothing runs at the model.
    await waitUntil("A's model calls gone with it", () => stack.fake.stats().inFlight === 0, 5_000);
    const refused = await miss(b.url);
    expect(outcome(refused)).toBe("503 busy");
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    const stillHeld = await inflight();
    expect(stillHeld.items.map((item) => item.holder).sort()).toEqual(held.items.map((item) => item.holder).sort());
    for (const item of stillHeld.items) expect(Date.parse(item.expires) - beforeAcquire).toBeLessThanOrEqual(LEASE_TTL_MS + 1_000);

    // They expire within their TTL.
    await waitUntil("the dead instance's leases freed", async () => (await inflight()).count === 0, FREED_BOUND_MS * 2, { intervalMs: 100 });
    const freedMs = Date.now() - killedAt;
    expect(freedMs).toBeLessThanOrEqual(FREED_BOUND_MS);

    // B runs GEN_MAX_INFLIGHT at once again.
    stack.fake.resetStats();
    const wave = await Promise.all(Array.from({ length: GEN_MAX_INFLIGHT }, () => miss(b.url)));
    expect(wave.map(outcome)).toEqual(Array<string>(GEN_MAX_INFLIGHT).fill("200"));
    expect(stack.fake.stats().peakInFlight).toBe(GEN_MAX_INFLIGHT);
    expect((await inflight()).count).toBe(0);
    expect(b.proc.running()).toBe(true);

    console.log(
      `instance killed: ${held.count} leases held by the dead instance (TTL ${LEASE_TTL_MS} ms); B refused "${outcome(refused)}" meanwhile; ` +
        `freed ${freedMs} ms after the kill (bound ${FREED_BOUND_MS}); then B ran ${GEN_MAX_INFLIGHT} at once (model peak ${stack.fake.stats().peakInFlight})`,
    );
  }, 90_000);
});
