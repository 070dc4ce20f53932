/**
 * POST /api/generate as server-sent events (PRODUCT §3a): text reaches the client while the model
 * is still writing, the events follow their grammar, refusals before the model keep their HTTP
 * status, and a client that goes away mid-stream still leaves everything settled.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { collapseStream, parseEvents, startTestApp, type TestApp } from "@/e2e/support/harness/app-harness";
import { INFLIGHT_KEY } from "./keys";

interface Variant {
  caption: string;
  hashtags: string[];
  hook: string;
  checks: { rule: string; status: string; message: string }[];
}
interface Done {
  id: string;
  caption: string;
  variants: Variant[];
  cached: boolean;
  quota: { used: number; remaining: number };
}

let app: TestApp;
let seq = 0;
const nextIp = () => `198.51.101.${++seq}`;
const SSE = { accept: "text/event-stream" };

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});
beforeEach(() => {
  app.fake.reset();
});

/** Reads a streamed answer as it arrives, noting when each event landed. */
async function readTimed(res: Response): Promise<{ event: string; data: unknown; at: number }[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: { event: string; data: unknown; at: number }[] = [];
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    const blocks = buffer.split("\n\n");
    buffer = blocks.pop() ?? "";
    for (const block of blocks) for (const e of parseEvents(`${block}\n\n`)) events.push({ ...e, at: Date.now() });
  }
  return events;
}

/** Polls `check` until it returns true (or fails the test after `ms`). */
async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await sleep(50);
  }
}

describe(`POST /api/generate streamed (${process.env.TEST_REDIS_URL ? "real stores" : "embedded stores"})`, () => {
  it("sends the first delta while the model is still writing", async () => {
    // Warm: the first request loads the routes, which is no part of the stream's timing.
    await app.request("GET", "/api/health");
    app.fake.set({ streamChunkDelayMs: 60 });
    const res = await app.generate(
      { text: "first light over the harbour, boats heading out", mode: "standard", lang: "en", variants: 2 },
      { ip: nextIp(), stream: false, headers: SSE },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(res.headers.get("x-accel-buffering")).toBe("no");
    const events = await readTimed(res);
    const { lastStreamStartedAt, lastStreamEndedAt } = app.fake.stats();
    const firstDelta = events.find((e) => e.event === "delta")!;
    console.log(
      `first delta ${firstDelta.at - lastStreamStartedAt!} ms after the model began writing; it wrote for ${lastStreamEndedAt! - lastStreamStartedAt!} ms`,
    );
    // Well before the end: the stream takes ~20 chunks × 60 ms.
    expect(firstDelta.at).toBeLessThan(lastStreamEndedAt! - 500);
    expect(firstDelta.at).toBeGreaterThanOrEqual(lastStreamStartedAt! - 5);

    // The grammar: deltas, then one `variant` per variant, then `done` last.
    const names = events.map((e) => e.event);
    expect(names.at(-1)).toBe("done");
    const done = events.at(-1)!.data as Done;
    expect(done.variants).toHaveLength(2);
    expect(names.filter((n) => n === "variant")).toHaveLength(2);
    expect(names.lastIndexOf("delta")).toBeLessThan(names.indexOf("variant"));
    // What was shown word by word is exactly what was answered.
    for (const [i, variant] of done.variants.entries()) {
      const text = events
        .filter((e) => e.event === "delta" && (e.data as { variant: number }).variant === i)
        .map((e) => (e.data as { text: string }).text)
        .join("");
      expect(text).toBe(variant.caption);
      expect(events.find((e) => e.event === "variant" && (e.data as { index: number }).index === i)?.data).toEqual({ index: i, variant });
    }
    expect(done.caption).toBe(done.variants[0]!.caption);
    expect(done.quota.used).toBe(1);
  });

  it("answers a cache hit with `done` at once, and spends nothing", async () => {
    const ip = nextIp();
    const input = { text: "the same request twice, streamed", mode: "rizz", lang: "en" };
    await collapseStream(await app.generate(input, { ip, stream: true }));
    app.fake.resetStats();
    const res = await app.generate(input, { ip, stream: false, headers: SSE });
    const events = parseEvents(await res.text());
    expect(events.map((e) => e.event)).toEqual(["done"]);
    expect(events[0]!.data).toMatchObject({ cached: true, quota: { used: 1 } });
    expect(app.fake.stats().chatCalls).toBe(0);
  });

  it("keeps the HTTP status of a refusal before the model starts (quota: 429 JSON with Retry-After)", async () => {
    const ip = nextIp();
    for (let i = 0; i < 3; i += 1) {
      const ok = await collapseStream(await app.generate({ text: `quota ${i}`, mode: "standard", lang: "en" }, { ip, stream: true }));
      expect(ok.status).toBe(200);
    }
    const res = await app.generate({ text: "quota 4", mode: "standard", lang: "en" }, { ip, stream: false, headers: SSE });
    expect(res.status).toBe(429);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("quota_exceeded");
  });

  it("a failure after text went out is an `error` event; the quota is refunded", async () => {
    const { userId, token } = await app.signUp();
    // Truncated JSON twice (the call and its one retry): the caption text streams, the parse fails.
    app.fake.set({ fault: { kind: "malformed" }, faultCount: 2 });
    const res = await app.generate({ text: "a broken answer mid-stream", mode: "savage", lang: "en" }, { token, stream: false, headers: SSE });
    expect(res.status).toBe(200);
    const events = parseEvents(await res.text());
    expect(events.some((e) => e.event === "delta")).toBe(true);
    expect(events.at(-1)).toMatchObject({ event: "error", data: { status: 503, error: { code: "upstream_unavailable" } } });
    expect((events.at(-1)!.data as { retryAfterSeconds?: number }).retryAfterSeconds).toBeGreaterThan(0);
    expect(await app.userUsage(userId)).toEqual({ used: 0, charges: 1, refunds: 1 });
    const [row] = await app.db.query<{ status: string }>(`select status from litstatus.generations where user_id = $1`, [userId]);
    expect(row?.status).toBe("failed");
  });

  it("a client that goes away mid-stream: the slot is freed, the quota committed and the record closed", async () => {
    const { userId, token } = await app.signUp();
    app.fake.set({ streamChunkDelayMs: 80 });
    const res = await app.generate(
      { text: "walking out halfway through the answer", mode: "standard", lang: "en", variants: 3 },
      { token, stream: false, headers: SSE },
    );
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain("event: delta");
    await reader.cancel();
    // The model is still writing for us: the work goes on, and settles as the JSON path would.
    expect(app.fake.stats().inFlight).toBe(1);
    await eventually(async () => {
      const [row] = await app.db.query<{ status: string }>(`select status from litstatus.generations where user_id = $1`, [userId]);
      return row?.status === "complete";
    }, 10_000);
    await eventually(async () => (await app.kv.leaseList(INFLIGHT_KEY)).length === 0);
    expect(await app.userUsage(userId)).toEqual({ used: 1, charges: 1, refunds: 0 });
    // Its answer was cached: asking again is free and immediate.
    const again = await collapseStream(
      await app.generate({ text: "walking out halfway through the answer", mode: "standard", lang: "en", variants: 3 }, { token, stream: true }),
    );
    expect(((await again.json()) as Done).cached).toBe(true);
  });

  it("a flagged input never shows a word: no delta, 400 content_blocked, nothing charged", async () => {
    const { userId, token } = await app.signUp();
    app.fake.set({ streamChunkDelayMs: 20 });
    const res = await app.generate({ text: "a forbidden-term in a caption", mode: "standard", lang: "en" }, { token, stream: false, headers: SSE });
    const text = await res.text();
    expect(text).not.toContain("event: delta");
    expect(res.status).toBe(400);
    expect((JSON.parse(text) as { error: { code: string } }).error.code).toBe("content_blocked");
    expect(await app.userUsage(userId)).toMatchObject({ used: 0 });
  });
});
