/**
 * Scenario 4 (issue 12 item 4, docs/RELIABILITY.md): OpenAI faults.
 *
 * One production server on real stores, the fake OpenAI server failing in four ways in turn: a
 * 429 storm, 500s, timeouts (no answer at all) and a stream that writes too slowly to finish
 * before the deadline. For each: waves of concurrent generates (a signed-in user and guests)
 * fail with 503 `upstream_unavailable` + Retry-After (never 500) until the shared breaker opens;
 * while it is open requests fail fast without reaching the model; nobody is charged (the
 * user's ledger: charges minus refunds = successful generations; a guest's quota: unspent);
 * once the fake recovers the breaker lets one probe through, closes, and generates succeed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeOpenAIBehaviour } from "@/e2e/support/fake-openai";
import type { App } from "./support/app";
import { call, caption, outcome, readiness, type Answer } from "./support/http";
import { waitUntil } from "./support/processes";
import { METRICS_TOKEN, startStack, type Stack } from "./support/stack";

const SCENARIO = 3;
const BREAKER_FAILURE_THRESHOLD = 3;
const BREAKER_COOLDOWN_MS = 2_000;
const OPENAI_TIMEOUT_MS = 1_500;
/** Requests per wave while the fault lasts: one signed-in user, the rest guests. */
const WAVE = 3;
/** Waves after which the breaker must be open: the threshold is reached in the first. */
const WAVES_TO_OPEN = 1;
/** A stream chunk every second: the caption cannot finish before OPENAI_TIMEOUT_MS. */
const SLOW_CHUNK_MS = 1_000;
/** Bound: a refusal while the breaker is open (no model call). */
const FAIL_FAST_BOUND_MS = 500;
/** Requests sent while open, each of which must fail fast. */
const WHILE_OPEN = 3;
/** Bound: the fake recovered → the first 200: the cooldown, then the half-open probe, plus slack. */
const CLOSE_BOUND_MS = BREAKER_COOLDOWN_MS + 2_000;

const FAULTS: { name: string; behaviour: Partial<FakeOpenAIBehaviour>; stream: boolean }[] = [
  { name: "429 storm", behaviour: { fault: { kind: "status", status: 429 } }, stream: false },
  { name: "500s", behaviour: { fault: { kind: "status", status: 500 } }, stream: false },
  { name: "timeouts", behaviour: { fault: { kind: "timeout" } }, stream: false },
  { name: "slow stream", behaviour: { streamChunkDelayMs: SLOW_CHUNK_MS }, stream: true },
];

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    scenario: SCENARIO,
    instances: 1,
    env: {
      BREAKER_FAILURE_THRESHOLD: String(BREAKER_FAILURE_THRESHOLD),
      BREAKER_COOLDOWN_MS: String(BREAKER_COOLDOWN_MS),
      OPENAI_TIMEOUT_MS: String(OPENAI_TIMEOUT_MS),
      GUEST_DAILY_LIMIT: "10",
    },
  });
}, 120_000);
afterAll(async () => {
  await stack?.close();
}, 60_000);

const openaiCheck = async (app: App) => (await readiness(app.url, METRICS_TOKEN)).checks.openai;

describe("OpenAI faults: the breaker opens, nobody is charged, it closes after recovery", () => {
  const figures: string[] = [];
  afterAll(() => console.log(`openai faults: ${figures.join("; ")}`));

  it.each(FAULTS)("$name", async ({ name, behaviour, stream }) => {
    const [app] = stack.apps as [App];
    const user = await stack.signUp();
    let seq = 0;
    const guestIps = Array.from({ length: WAVE - 1 }, (_, i) => `198.51.100.${FAULTS.findIndex((f) => f.name === name) * 10 + i + 1}`);
    const generate = (who: "user" | number): Promise<Answer> =>
      call(app.url, "/api/generate", {
        json: caption(`${name}: caption ${++seq}`),
        stream,
        ...(who === "user" ? { token: user.token } : { ip: guestIps[who] }),
      });
    const wave = () => Promise.all([generate("user"), ...guestIps.map((_, i) => generate(i))]);
    const answers: Answer[] = [];

    // 1. The fault: waves fail with 503 upstream_unavailable until the breaker is open.
    expect((await openaiCheck(app)).observedValue).toBe("breaker closed");
    stack.fake.reset();
    stack.fake.set(behaviour);
    let waves = 0;
    while (waves < WAVES_TO_OPEN * 3 && (await openaiCheck(app)).observedValue !== "breaker open") {
      answers.push(...(await wave()));
      waves++;
    }
    expect(answers.map(outcome)).toEqual(Array<string>(answers.length).fill("503 upstream_unavailable"));
    expect(answers.filter((a) => !(Number(a.retryAfter) >= 1))).toEqual([]);
    expect(waves).toBe(WAVES_TO_OPEN);
    expect(await openaiCheck(app)).toMatchObject({ status: "warn", observedValue: "breaker open" });
    const callsWhenOpened = stack.fake.stats().chatCalls;

    // 2. Open: refused fast, nothing reaches the model.
    const whileOpen: Answer[] = [];
    for (let i = 0; i < WHILE_OPEN; i++) whileOpen.push(await generate(i % 2 === 0 ? "user" : 0));
    expect(whileOpen.map(outcome)).toEqual(Array<string>(WHILE_OPEN).fill("503 upstream_unavailable"));
    const slowest = Math.max(...whileOpen.map((a) => a.endedAt - a.at));
    expect(slowest).toBeLessThanOrEqual(FAIL_FAST_BOUND_MS);
    expect(stack.fake.stats().chatCalls).toBe(callsWhenOpened);

    // 3. Recovery: the probe after the cooldown closes the breaker.
    stack.fake.reset();
    const fixedAt = Date.now();
    let recovered: Answer | undefined;
    const refusedWhileCooling: Answer[] = [];
    await waitUntil(
      "a 200 after the fake recovered",
      async () => {
        const answer = await generate("user");
        if (answer.status === 200) recovered = answer;
        else refusedWhileCooling.push(answer);
        return answer.status === 200;
      },
      CLOSE_BOUND_MS * 3,
      { intervalMs: 100 },
    );
    const closeMs = recovered!.endedAt - fixedAt;
    expect(closeMs).toBeLessThanOrEqual(CLOSE_BOUND_MS);
    expect(refusedWhileCooling.map(outcome).filter((o) => o !== "503 upstream_unavailable")).toEqual([]);
    expect(await openaiCheck(app)).toMatchObject({ status: "pass", observedValue: "breaker closed" });
    const after = await Promise.all([generate("user"), generate(0)]);
    expect(after.map(outcome)).toEqual(["200", "200"]);

    // 4. Nobody paid for a failure: the user's two successes are the net charges; the guests spent nothing but the one 200.
    const [ledger] = await stack.pg.db.query<{ charges: number; refunds: number; used: number }>(
      `select count(*) filter (where kind = 'charge')::int as charges, count(*) filter (where kind = 'refund')::int as refunds,
              coalesce((select sum(used) from litstatus.usage_daily where user_id = $1), 0)::int as used
         from litstatus.usage_ledger where user_id = $1`,
      [user.userId],
    );
    expect({ net: ledger!.charges - ledger!.refunds, used: ledger!.used }).toEqual({ net: 2, used: 2 });
    const guestUsed = await Promise.all(
      guestIps.map(async (ip) => ((await call(app.url, "/api/quota", { ip })).body as { quota: { used: number } }).quota.used),
    );
    expect(guestUsed).toEqual(guestIps.map((_, i) => (i === 0 ? 1 : 0)));

    figures.push(
      `${name}: ${answers.length} requests in ${waves} wave(s) → 503 until open (model calls ${callsWhenOpened}), ` +
        `${WHILE_OPEN} refused while open in ≤ ${slowest} ms with no model call, closed ${closeMs} ms after recovery (bound ${CLOSE_BOUND_MS}); ` +
        `ledger charges ${ledger!.charges} refunds ${ledger!.refunds} used ${ledger!.used}`,
    );
  });
});
