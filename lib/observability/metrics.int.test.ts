/**
 * GET /api/metrics end to end: the bearer token (404 unset, 401 wrong, 200 right, compared in
 * constant time), then a scripted run through the real routes and engine — 3 generations (cache
 * misses), 1 cache hit, 1 quota denial, 1 upstream failure (fake OpenAI fault) — after which the
 * scraped counters moved by exactly those numbers. Gauges (in flight, queued, breaker, event
 * buffer) are caught while they are up. Embedded stores, or real ones with TEST_DATABASE_URL /
 * TEST_REDIS_URL.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { startTestApp, type TestApp } from "@/e2e/support/harness/app-harness";
import { getEnv } from "@/lib/env";
import { getRecordWriter } from "@/lib/events";
import { BREAKER_KEY } from "@/lib/generation/keys";

/** The constant-time comparison is observable: node:crypto's timingSafeEqual, wrapped in a spy. */
const { timingSafeEqualSpy } = vi.hoisted(() => ({ timingSafeEqualSpy: { calls: [] as Array<[number, number]> } }));
vi.mock("node:crypto", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:crypto")>();
  const timingSafeEqual = (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
    timingSafeEqualSpy.calls.push([a.byteLength, b.byteLength]);
    return actual.timingSafeEqual(a, b);
  };
  return { ...actual, default: { ...actual, timingSafeEqual }, timingSafeEqual };
});

const TOKEN = "metrics-test-token-0123456789abcdef";
const storeMode = process.env.TEST_REDIS_URL ? "real stores" : "embedded stores";

let app: TestApp;
beforeAll(async () => {
  // Guests get no quota (any guest miss is a quota denial); the api burst limit is 2 a minute.
  app = await startTestApp({ METRICS_TOKEN: TOKEN, GUEST_DAILY_LIMIT: "0", RATE_LIMIT_API_PER_MIN: "2" });
});
afterAll(async () => {
  await app.close();
});
beforeEach(() => {
  app.fake.reset();
});

let seq = 0;
const nextIp = () => `198.51.100.${++seq}`;
const nextText = (what: string) => `${what}: metrics scenario ${++seq} ${Date.now()}`;

/** Prometheus text → `name{labels}` → value. */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

async function scrape(): Promise<Map<string, number>> {
  const res = await app.request("GET", "/api/metrics", { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parse(await res.text());
}

/** What moved between two scrapes (counters; a series missing before counts from 0). */
function delta(before: Map<string, number>, after: Map<string, number>, key: string): number {
  return (after.get(key) ?? 0) - (before.get(key) ?? 0);
}

async function errorCode(res: Response): Promise<string | undefined> {
  return ((await res.json()) as { error?: { code?: string } }).error?.code;
}

const GEN = (outcome: string, cached: boolean, provider = "openai") =>
  `litstatus_generations_total{outcome="${outcome}",provider="${provider}",cached="${cached}"}`;

describe(`GET /api/metrics: the token (${storeMode})`, () => {
  it("is 404 not_found while METRICS_TOKEN is unset", async () => {
    const env = getEnv();
    const saved = env.METRICS_TOKEN;
    env.METRICS_TOKEN = undefined;
    try {
      const res = await app.request("GET", "/api/metrics", { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.status).toBe(404);
      expect(await errorCode(res)).toBe("not_found");
    } finally {
      env.METRICS_TOKEN = saved;
    }
  });

  it("is 401 without a token or with a wrong one, compared in constant time; 200 with the right one", async () => {
    const missing = await app.request("GET", "/api/metrics");
    expect(missing.status).toBe(401);
    expect(await errorCode(missing)).toBe("unauthorized");

    timingSafeEqualSpy.calls.length = 0;
    for (const wrong of [`${TOKEN}x`, TOKEN.slice(0, 5), TOKEN.replace(/.$/, "X")]) {
      const res = await app.request("GET", "/api/metrics", { headers: { authorization: `Bearer ${wrong}` } });
      expect(res.status).toBe(401);
      const body = await res.text();
      expect(body).not.toContain("litstatus_");
      expect((JSON.parse(body) as { error: { code: string } }).error.code).toBe("unauthorized");
    }
    // Every comparison was constant-time over equal-length digests, whatever the token's length.
    expect(timingSafeEqualSpy.calls).toEqual([
      [32, 32],
      [32, 32],
      [32, 32],
    ]);
    // Not in a query string.
    expect((await app.request("GET", `/api/metrics?token=${TOKEN}`)).status).toBe(401);

    const ok = await app.request("GET", "/api/metrics", { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    const text = await ok.text();
    expect(text).toContain("# TYPE litstatus_http_requests_total counter");
    expect(text).toContain("# TYPE litstatus_http_request_duration_seconds histogram");
    expect(text).toContain("process_cpu_seconds_total");
  });

  it("is never rate limited, and reports the dependencies as reachable", async () => {
    for (let i = 0; i < 4; i++) await scrape();
    const s = await scrape();
    expect(s.get('litstatus_dependency_up{dependency="database"}')).toBe(1);
    expect(s.get('litstatus_dependency_up{dependency="redis"}')).toBe(1);
    expect(s.get('litstatus_http_requests_total{route="metrics",method="GET",status="200"}')).toBeGreaterThanOrEqual(4);
  });
});

describe(`the scripted run (${storeMode})`, () => {
  it("3 generations, 1 cache hit, 1 quota denial, 1 upstream failure: the counters show exactly those", async () => {
    const user = await app.signUp();
    const texts = [nextText("first"), nextText("second"), nextText("third")];
    const before = await scrape();

    // 3 generations: cache misses, model calls.
    for (const text of texts) {
      const res = await app.generate({ text, mode: "standard", lang: "en" }, { token: user.token, ip: nextIp() });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { cached: boolean }).cached).toBe(false);
    }
    // 1 cache hit.
    const hit = await app.generate({ text: texts[0], mode: "standard", lang: "en" }, { token: user.token, ip: nextIp() });
    expect(hit.status).toBe(200);
    expect(((await hit.json()) as { cached: boolean }).cached).toBe(true);
    // 1 quota denial (a guest, GUEST_DAILY_LIMIT=0).
    const denied = await app.generate({ text: nextText("guest"), mode: "standard", lang: "en" }, { ip: nextIp() });
    expect(denied.status).toBe(429);
    expect(await errorCode(denied)).toBe("quota_exceeded");
    // 1 upstream failure (the model answers 500, also on the one retry).
    app.fake.set({ fault: { kind: "status", status: 500 } });
    const failed = await app.generate({ text: nextText("failing"), mode: "standard", lang: "en" }, { token: user.token, ip: nextIp() });
    expect(failed.status).toBe(503);
    expect(await errorCode(failed)).toBe("upstream_unavailable");
    app.fake.reset();

    await app.flush();
    const after = await scrape();
    const d = (key: string) => delta(before, after, key);

    expect(d(GEN("success", false))).toBe(3);
    expect(d(GEN("success", true))).toBe(1);
    expect(d(GEN("upstream_error", false))).toBe(1);
    // Nothing else moved: quota denials are not generations.
    const generationSeries = [...after.keys()].filter((k) => k.startsWith("litstatus_generations_total"));
    expect(generationSeries.reduce((sum, key) => sum + d(key), 0)).toBe(5);

    expect(d('litstatus_quota_denials_total{plan="guest"}')).toBe(1);
    expect(d('litstatus_quota_denials_total{plan="free"}')).toBe(0);
    expect(d("litstatus_cache_hits_total")).toBe(1);
    // 3 misses, and the failing request's lookup missed too.
    expect(d("litstatus_cache_misses_total")).toBe(4);
    expect(d('litstatus_security_events_total{severity="error"}')).toBe(1);

    // Tokens: exactly what the user's generation rows recorded.
    const [tokens] = await app.db.query<{ prompt: number; completion: number }>(
      `select coalesce(sum(prompt_tokens), 0)::int as prompt, coalesce(sum(completion_tokens), 0)::int as completion
         from litstatus.generations where user_id = $1 and status = 'complete' and cached = false`,
      [user.userId],
    );
    expect(tokens!.prompt).toBeGreaterThan(0);
    expect(d('litstatus_model_tokens_total{kind="prompt"}')).toBe(tokens!.prompt);
    expect(d('litstatus_model_tokens_total{kind="completion"}')).toBe(tokens!.completion);

    // The requests, by route name and status (never the raw path).
    expect(d('litstatus_http_requests_total{route="generate",method="POST",status="200"}')).toBe(4);
    expect(d('litstatus_http_requests_total{route="generate",method="POST",status="429"}')).toBe(1);
    expect(d('litstatus_http_requests_total{route="generate",method="POST",status="503"}')).toBe(1);
    expect(d('litstatus_http_request_duration_seconds_count{route="generate",method="POST",status="200"}')).toBe(4);
    expect([...after.keys()].some((k) => k.includes("/api/"))).toBe(false);

    // Nothing in flight or queued once it is over; the breaker stayed closed (one failure).
    expect(after.get("litstatus_generations_in_flight")).toBe(0);
    expect(after.get("litstatus_generations_queued")).toBe(0);
    expect(after.get("litstatus_breaker_state")).toBe(0);
    expect(after.get("litstatus_event_buffer_size")).toBe(0);
  });

  it("rate-limit hits are counted by limit", async () => {
    const ip = nextIp();
    const before = await scrape();
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push((await app.request("GET", "/api/quota", { ip })).status);
    expect(answers).toEqual([200, 200, 429]);
    const after = await scrape();
    expect(delta(before, after, 'litstatus_rate_limit_hits_total{limit="api"}')).toBe(1);
    expect(delta(before, after, 'litstatus_http_requests_total{route="quota",method="GET",status="429"}')).toBe(1);
  });
});

describe(`gauges while the work is running (${storeMode})`, () => {
  it("in-flight and queued generations, then back to 0", async () => {
    const env = getEnv();
    const saved = env.GEN_MAX_INFLIGHT;
    env.GEN_MAX_INFLIGHT = 1;
    try {
      const user = await app.signUp();
      app.fake.set({ latencyMs: 800 });
      const first = app.generate({ text: nextText("slow one"), mode: "standard", lang: "en" }, { token: user.token, ip: nextIp() });
      while (app.fake.stats().inFlight < 1) await sleep(10);
      const second = app.generate({ text: nextText("slow two"), mode: "standard", lang: "en" }, { token: user.token, ip: nextIp() });
      let during = await scrape();
      for (let i = 0; i < 50 && during.get("litstatus_generations_queued") !== 1; i++) {
        await sleep(10);
        during = await scrape();
      }
      expect(during.get("litstatus_generations_in_flight")).toBe(1);
      expect(during.get("litstatus_generations_queued")).toBe(1);
      expect((await first).status).toBe(200);
      expect((await second).status).toBe(200);
      const after = await scrape();
      expect(after.get("litstatus_generations_in_flight")).toBe(0);
      expect(after.get("litstatus_generations_queued")).toBe(0);
    } finally {
      env.GEN_MAX_INFLIGHT = saved;
    }
  });

  it("the event buffer holds the records until they are written; security events by severity", async () => {
    await app.flush();
    const before = await scrape();
    const writer = getRecordWriter();
    // Enqueued now, written by the writer's timer (250 ms) or a flush: the scrape sees them waiting.
    writer.securityEvent({ eventType: "metrics_probe", severity: "critical", ip: nextIp(), meta: { test: true } });
    writer.securityEvent({ eventType: "metrics_probe", severity: "error", ip: nextIp(), meta: { test: true } });
    const during = await scrape();
    expect(during.get("litstatus_event_buffer_size")).toBe(writer.stats().buffered);
    expect(during.get("litstatus_event_buffer_size")).toBeGreaterThanOrEqual(2);
    expect(delta(before, during, 'litstatus_security_events_total{severity="critical"}')).toBe(1);
    expect(delta(before, during, 'litstatus_security_events_total{severity="error"}')).toBe(1);
    await app.flush();
    const after = await scrape();
    expect(after.get("litstatus_event_buffer_size")).toBe(0);
    expect(after.get("litstatus_event_drops_total")).toBe(writer.stats().dropped);
    expect(after.get("litstatus_event_drops_total")).toBe(0);
  });

  it("breaker state: 2 once failures open it, 0 once a call succeeds after it closes", async () => {
    const env = getEnv();
    const saved = { threshold: env.BREAKER_FAILURE_THRESHOLD, fallback: env.OPENAI_FALLBACK_MODEL };
    env.BREAKER_FAILURE_THRESHOLD = 1;
    env.OPENAI_FALLBACK_MODEL = undefined;
    try {
      const user = await app.signUp();
      app.fake.set({ fault: { kind: "status", status: 500 } });
      expect((await app.generate({ text: nextText("opens"), mode: "standard", lang: "en" }, { token: user.token, ip: nextIp() })).status).toBe(503);
      expect((await scrape()).get("litstatus_breaker_state")).toBe(2);
      // Refused while open: still 2.
      expect((await app.generate({ text: nextText("refused"), mode: "standard", lang: "en" }, { token: user.token, ip: nextIp() })).status).toBe(503);
      expect((await scrape()).get("litstatus_breaker_state")).toBe(2);
      app.fake.reset();
      await app.kv.breakerWrite(BREAKER_KEY, "closed");
      expect((await app.generate({ text: nextText("closed"), mode: "standard", lang: "en" }, { token: user.token, ip: nextIp() })).status).toBe(200);
      expect((await scrape()).get("litstatus_breaker_state")).toBe(0);
    } finally {
      env.BREAKER_FAILURE_THRESHOLD = saved.threshold;
      env.OPENAI_FALLBACK_MODEL = saved.fallback;
      await app.kv.breakerWrite(BREAKER_KEY, "closed");
    }
  });
});
