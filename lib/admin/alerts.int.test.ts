/**
 * The runbook alert rules (PRODUCT §7) against data written through the real paths: the shared
 * series (a series writer on the app's store), fixture rows in litstatus.security_events and
 * litstatus.generations with known timestamps, readiness (a database that stops answering, a
 * Redis outage in real mode) and the breaker in the store. Each rule fires on data that breaches
 * it and stays ok just under. The webhook: one POST per transition when two evaluators race,
 * one retry after a 500, a timeout on a hanging receiver that never stalls the evaluation.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "@/e2e/support/harness/app-harness";
import { deleteKeys, TEST_KV_TIMEOUT_MS } from "@/e2e/support/harness/stores-kv";
import type { Db } from "@/lib/db";
import { BREAKER_KEY } from "@/lib/generation/keys";
import { createMemoryStore } from "@/lib/kv/memory-store";
import type { KvStore } from "@/lib/kv/types";
import { createUpstashStore } from "@/lib/kv/upstash-store";
import { createSeriesWriter } from "@/lib/observability/series";
import {
  ALERT_RULES,
  evaluateAlerts,
  gatherAlertInputs,
  settleAlertDeliveries,
  type AlertId,
  type AlertInputs,
  type AlertStatus,
  type WebhookPayload,
} from "./alerts";

let app: TestApp;
const REDIS_URL = process.env.TEST_REDIS_URL;
/** Alert state stores made here live under this prefix (deleted at the end in real mode). */
const PREFIX = `t:alerts-${randomBytes(4).toString("hex")}:`;
let stores = 0;
const MIN = 60_000;
/** Each test gets its own stretch of (past) time, so fixtures never overlap. */
let base = Date.UTC(2026, 5, 1, 0, 0, 30);
const nextBase = (): number => (base += 6 * 3_600_000);

const ALL_OK: AlertInputs = {
  errorRate: 0,
  p95Ms: null,
  rateLimitViolations: 0,
  databaseDown: false,
  redisDown: false,
  openaiErrorRate: 0,
  highSeverityEvents: 0,
  breakerOpen: false,
};

/** A fresh alert-state store: on Redis (through the REST test server) in real mode; `shared` names one for two evaluators. */
function stateStore(shared?: string): KvStore {
  const prefix = `${PREFIX}${shared ?? ++stores}:`;
  if (app.rest) return createUpstashStore({ url: app.rest.url, token: app.rest.token, prefix, timeoutMs: TEST_KV_TIMEOUT_MS });
  // In memory, "one backend" is one store object (one process).
  let store = memoryStores.get(prefix);
  if (!store) memoryStores.set(prefix, (store = createMemoryStore({ prefix })));
  return store;
}
const memoryStores = new Map<string, KvStore>();

const rule = (alerts: AlertStatus[], id: AlertId): AlertStatus => alerts.find((a) => a.id === id)!;

/** Evaluates from the real data at `now` on a fresh state store (no webhook). */
async function evaluateAt(now: number, kv = stateStore()): Promise<AlertStatus[]> {
  return evaluateAlerts({ now, kv, webhookUrl: null });
}

/** `n` requests in the minute of `at` through a series writer on the app's store. */
async function writeRequests(at: number, requests: { status: number; ms: number }[]): Promise<void> {
  const writer = createSeriesWriter({ kv: () => app.kv, now: () => at, instance: "fixture" });
  for (const r of requests) writer.observe({ route: "fixture", method: "GET", ...r });
  await writer.flush();
}

const times = <T>(n: number, item: T): T[] => Array.from({ length: n }, () => item);

async function securityEvents(at: number, rows: [type: string, severity: string, count: number][]): Promise<void> {
  for (const [type, severity, count] of rows) {
    await app.db.query(
      `insert into litstatus.security_events (event_type, severity, ip, created_at)
       select $1, $2, '198.51.100.1', $3::timestamptz from generate_series(1, $4::int)`,
      [type, severity, new Date(at).toISOString(), count],
    );
  }
}

async function generations(at: number, count: number, fields: { cached?: boolean; provider?: string } = {}): Promise<void> {
  await app.db.query(
    `insert into litstatus.generations (id, status, mode, lang, input_hash, provider, model, cached, created_at, completed_at)
     select gen_random_uuid(), 'complete', 'standard', 'en', 'fixture', $1, 'gpt-test', $2::boolean, $3::timestamptz, $3::timestamptz
     from generate_series(1, $4::int)`,
    [fields.provider ?? "openai", fields.cached ?? false, new Date(at).toISOString(), count],
  );
}

beforeAll(async () => {
  // A short fallback window, so the Redis-outage test sees the store go back to Redis quickly.
  app = await startTestApp({ REDIS_RETRY_AFTER_MS: "200" });
});

afterAll(async () => {
  await settleAlertDeliveries();
  await app?.close();
  if (REDIS_URL) await deleteKeys(REDIS_URL, PREFIX);
});

describe("rules: fire on breaching data, stay ok just under", () => {
  it("has the seven runbook rules, plus the informational breaker rule", () => {
    expect(ALERT_RULES.map((r) => r.id)).toEqual([
      "error_rate",
      "p95_latency",
      "rate_limit_violations",
      "database_unreachable",
      "redis_unreachable",
      "openai_error_rate",
      "security_high_severity",
      "breaker_open",
    ]);
  });

  it("error rate > 5 % for 5 min: pending at once, firing after 5 min, resolved when it falls", async () => {
    const t = nextBase();
    await writeRequests(t, [...times(94, { status: 200, ms: 20 }), ...times(6, { status: 503, ms: 20 })]);
    const kv = stateStore();
    const first = rule(await evaluateAt(t, kv), "error_rate");
    expect(first).toMatchObject({ state: "pending", value: 0.06, threshold: 0.05, since: new Date(t).toISOString() });
    // Still breached 4 minutes later (the same minute is in the window): pending, since unchanged.
    expect(rule(await evaluateAt(t + 4 * MIN, kv), "error_rate")).toMatchObject({ state: "pending", since: new Date(t).toISOString() });
    await writeRequests(t + 5 * MIN, [...times(90, { status: 200, ms: 20 }), ...times(10, { status: 500, ms: 20 })]);
    expect(rule(await evaluateAt(t + 5 * MIN, kv), "error_rate")).toMatchObject({ state: "firing", value: 0.1, since: new Date(t + 5 * MIN).toISOString() });
    // Nothing in the window 10 minutes on: a rate of 0, resolved.
    expect(rule(await evaluateAt(t + 10 * MIN, kv), "error_rate")).toMatchObject({ state: "ok", value: 0, since: new Date(t + 10 * MIN).toISOString() });

    const u = nextBase();
    await writeRequests(u, [...times(95, { status: 200, ms: 20 }), ...times(5, { status: 503, ms: 20 })]);
    expect(rule(await evaluateAt(u), "error_rate")).toMatchObject({ state: "ok", value: 0.05, since: null });
  });

  it("p95 > 2 s for 5 min (the bucket's upper bound)", async () => {
    const t = nextBase();
    await writeRequests(t, [...times(94, { status: 200, ms: 100 }), ...times(6, { status: 200, ms: 3000 })]);
    const kv = stateStore();
    expect(rule(await evaluateAt(t, kv), "p95_latency")).toMatchObject({ state: "pending", value: 5000, threshold: 2000 });
    await writeRequests(t + 5 * MIN, times(20, { status: 200, ms: 2500 }));
    expect(rule(await evaluateAt(t + 5 * MIN, kv), "p95_latency")).toMatchObject({ state: "firing", value: 5000 });

    const u = nextBase();
    await writeRequests(u, [...times(95, { status: 200, ms: 100 }), ...times(5, { status: 200, ms: 3000 })]);
    expect(rule(await evaluateAt(u), "p95_latency")).toMatchObject({ state: "ok", value: 100 });
    const v = nextBase();
    await writeRequests(v, times(100, { status: 200, ms: 2000 }));
    expect(rule(await evaluateAt(v), "p95_latency")).toMatchObject({ state: "ok", value: 2000 });
  });

  it("> 100 rate-limit violations in 5 min", async () => {
    const t = nextBase();
    await securityEvents(t - MIN, [["rate_limited", "warn", 101]]);
    expect(rule(await evaluateAt(t), "rate_limit_violations")).toMatchObject({ state: "firing", value: 101, threshold: 100 });
    // Older than 5 minutes: out of the window.
    expect(rule(await evaluateAt(t + 5 * MIN), "rate_limit_violations")).toMatchObject({ state: "ok", value: 0 });
    const u = nextBase();
    await securityEvents(u - MIN, [["rate_limited", "warn", 100], ["quota_exceeded", "info", 5]]);
    expect(rule(await evaluateAt(u), "rate_limit_violations")).toMatchObject({ state: "ok", value: 100 });
  });

  it("OpenAI error rate > 50 %: failed model calls / all model calls over 5 min", async () => {
    const t = nextBase();
    await securityEvents(t - MIN, [["upstream_failure", "error", 2], ["model_invalid_response", "error", 1]]);
    await generations(t - MIN, 2);
    await generations(t - MIN, 4, { cached: true }); // cache hits are no model calls
    await generations(t - MIN, 4, { provider: "offline" }); // nor are offline captions
    expect(rule(await evaluateAt(t), "openai_error_rate")).toMatchObject({ state: "firing", value: 0.6, threshold: 0.5 });
    const u = nextBase();
    await securityEvents(u - MIN, [["upstream_failure", "error", 2]]);
    await generations(u - MIN, 2);
    expect(rule(await evaluateAt(u), "openai_error_rate")).toMatchObject({ state: "ok", value: 0.5 });
  });

  it("> 10 high-severity (error/critical) security events in 5 min", async () => {
    const t = nextBase();
    await securityEvents(t - 2 * MIN, [["fixture_a", "error", 6], ["fixture_b", "critical", 5]]);
    expect(rule(await evaluateAt(t), "security_high_severity")).toMatchObject({ state: "firing", value: 11, threshold: 10 });
    const u = nextBase();
    await securityEvents(u - 2 * MIN, [["fixture_a", "error", 5], ["fixture_b", "critical", 5], ["fixture_c", "warn", 20]]);
    expect(rule(await evaluateAt(u), "security_high_severity")).toMatchObject({ state: "ok", value: 10 });
  });

  it("database unreachable (readiness), and the SQL rules keep their state meanwhile", async () => {
    const kv = stateStore();
    const t = nextBase();
    await securityEvents(t - MIN, [["rate_limited", "warn", 150]]);
    expect(rule(await evaluateAt(t, kv), "database_unreachable")).toMatchObject({ state: "ok", value: 0 });
    expect(rule(await evaluateAt(t, kv), "rate_limit_violations")).toMatchObject({ state: "firing" });
    const globals = globalThis as unknown as { __litstatusDb?: Promise<Db> };
    const real = globals.__litstatusDb;
    const down = Promise.reject(new Error("connection refused"));
    down.catch(() => {});
    globals.__litstatusDb = down;
    try {
      const alerts = await evaluateAt(t + 10 * MIN, kv);
      expect(rule(alerts, "database_unreachable")).toMatchObject({ state: "firing", value: 1 });
      // Unmeasurable, not "0": the firing rule stays firing rather than resolving on no data.
      expect(rule(alerts, "rate_limit_violations")).toMatchObject({ state: "firing", value: null });
    } finally {
      globals.__litstatusDb = real;
    }
    const back = await evaluateAt(t + 11 * MIN, kv);
    expect(rule(back, "database_unreachable")).toMatchObject({ state: "ok", value: 0 });
    expect(rule(back, "rate_limit_violations")).toMatchObject({ state: "ok", value: 0 });
  });

  it.runIf(Boolean(REDIS_URL))("Redis unreachable (in-memory fallback active), on a real outage", async () => {
    const t = Date.now();
    const kv = createMemoryStore({ prefix: `${PREFIX}redis:` }); // the state must outlive the outage here
    expect(rule(await evaluateAlerts({ now: t, kv, webhookUrl: null }), "redis_unreachable")).toMatchObject({ state: "ok", value: 0 });
    await app.rest!.stop();
    try {
      expect(rule(await evaluateAlerts({ now: t + 1000, kv, webhookUrl: null }), "redis_unreachable")).toMatchObject({ state: "firing", value: 1 });
    } finally {
      await app.rest!.restart();
    }
    // The fallback stays active until an operation probes Redis after the retry window.
    await new Promise((r) => setTimeout(r, 300));
    await app.kv.cacheGet("probe");
    expect(app.kv.status().mode).toBe("primary");
    expect(rule(await evaluateAlerts({ now: t + 2000, kv, webhookUrl: null }), "redis_unreachable")).toMatchObject({ state: "ok", value: 0 });
  });

  it("Redis unreachable: fires when readiness says the fallback is active, ok otherwise", async () => {
    const kv = stateStore();
    const t = nextBase();
    expect(rule(await evaluateAlerts({ now: t, kv, inputs: { ...ALL_OK, redisDown: true }, webhookUrl: null }), "redis_unreachable")).toMatchObject({ state: "firing", value: 1 });
    expect(rule(await evaluateAlerts({ now: t + 1, kv, inputs: ALL_OK, webhookUrl: null }), "redis_unreachable")).toMatchObject({ state: "ok", value: 0 });
    expect((await gatherAlertInputs()).redisDown).toBe(false);
  });

  it("breaker open (informational): from the breaker's shared state", async () => {
    const kv = stateStore();
    await app.kv.breakerWrite(BREAKER_KEY, "open");
    try {
      const open = rule(await evaluateAt(Date.now(), kv), "breaker_open");
      expect(open).toMatchObject({ state: "firing", value: 1, informational: true });
    } finally {
      await app.kv.breakerWrite(BREAKER_KEY, "closed");
    }
    expect(rule(await evaluateAt(Date.now(), kv), "breaker_open")).toMatchObject({ state: "ok", value: 0 });
  });

  it("answers every rule the same from any instance: the state is shared", async () => {
    const t = nextBase();
    await writeRequests(t, [...times(90, { status: 200, ms: 20 }), ...times(10, { status: 500, ms: 20 })]);
    const name = `shared-${nextBase()}`;
    const a = stateStore(name);
    const b = stateStore(name);
    const fromA = await evaluateAt(t, a);
    const fromB = await evaluateAt(t + 30_000, b);
    expect(rule(fromB, "error_rate")).toEqual(rule(fromA, "error_rate"));
    expect(rule(fromB, "error_rate").state).toBe("pending");
  });
});

interface Receiver {
  url: string;
  bodies: WebhookPayload[];
  /** Every request, answered or not. */
  hits: number;
  close(): Promise<void>;
}

async function receiver(answer: (hit: number, req: IncomingMessage, res: ServerResponse) => void): Promise<Receiver> {
  const r = { bodies: [] as WebhookPayload[], hits: 0 };
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      r.hits += 1;
      try {
        r.bodies.push(JSON.parse(body) as WebhookPayload);
      } catch {
        // counted in hits
      }
      answer(r.hits, req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(r, {
    url: `http://127.0.0.1:${port}/hook`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

describe("webhook", () => {
  it("gets exactly one POST per transition when two evaluators race (firing, then resolved)", async () => {
    const hook = await receiver((_, __, res) => res.writeHead(204).end());
    try {
      const name = `race-${nextBase()}`;
      const evaluators = [stateStore(name), stateStore(name), stateStore(name)];
      const t = nextBase();
      const breached = { ...ALL_OK, breakerOpen: true };
      await Promise.all(evaluators.map((kv) => evaluateAlerts({ now: t, kv, inputs: breached, webhookUrl: hook.url })));
      // Still firing: no new transition, nothing sent.
      await Promise.all(evaluators.map((kv) => evaluateAlerts({ now: t + 1000, kv, inputs: breached, webhookUrl: hook.url })));
      await settleAlertDeliveries();
      expect(hook.bodies).toEqual([{ alert: "breaker_open", state: "firing", value: 1, since: new Date(t).toISOString() }]);

      await Promise.all(evaluators.map((kv) => evaluateAlerts({ now: t + 2000, kv, inputs: ALL_OK, webhookUrl: hook.url })));
      await settleAlertDeliveries();
      expect(hook.bodies).toEqual([
        { alert: "breaker_open", state: "firing", value: 1, since: new Date(t).toISOString() },
        { alert: "breaker_open", state: "resolved", value: 0, since: new Date(t + 2000).toISOString() },
      ]);
      expect(hook.hits).toBe(2);
    } finally {
      await hook.close();
    }
  });

  it("sends nothing for pending, nor for pending that clears without firing", async () => {
    const hook = await receiver((_, __, res) => res.writeHead(200).end());
    try {
      const kv = stateStore();
      const t = nextBase();
      await evaluateAlerts({ now: t, kv, inputs: { ...ALL_OK, errorRate: 0.5 }, webhookUrl: hook.url });
      await evaluateAlerts({ now: t + MIN, kv, inputs: ALL_OK, webhookUrl: hook.url });
      await settleAlertDeliveries();
      expect(hook.hits).toBe(0);
    } finally {
      await hook.close();
    }
  });

  it("is retried once after a 500", async () => {
    const hook = await receiver((hit, _, res) => res.writeHead(hit === 1 ? 500 : 200).end());
    try {
      const kv = stateStore();
      const t = nextBase();
      await evaluateAlerts({ now: t, kv, inputs: { ...ALL_OK, highSeverityEvents: 12 }, webhookUrl: hook.url });
      await settleAlertDeliveries();
      expect(hook.hits).toBe(2);
      const expected = { alert: "security_high_severity", state: "firing", value: 12, since: new Date(t).toISOString() };
      expect(hook.bodies).toEqual([expected, expected]);
    } finally {
      await hook.close();
    }
  });

  it("times out on a hanging receiver (and retries once) without stalling the evaluation", async () => {
    const hook = await receiver(() => {}); // never answers
    try {
      const kv = stateStore();
      const t = nextBase();
      const started = performance.now();
      const alerts = await evaluateAlerts({ now: t, kv, inputs: { ...ALL_OK, databaseDown: true }, webhookUrl: hook.url, webhookTimeoutMs: 300 });
      expect(performance.now() - started).toBeLessThan(250);
      expect(rule(alerts, "database_unreachable").state).toBe("firing");
      const settling = performance.now();
      await settleAlertDeliveries();
      const waited = performance.now() - settling;
      expect(hook.hits).toBe(2);
      expect(waited).toBeGreaterThanOrEqual(300 + 500);
      expect(waited).toBeLessThan(5000);
    } finally {
      await hook.close();
    }
  });
});

describe("GET /api/admin/alerts", () => {
  it("answers every rule to a moderator; 403 to a user, 401 signed out, 400 on unknown query", async () => {
    const moderator = await app.signUp("alerts-mod@example.test");
    await app.db.query(`update litstatus.profiles set role = 'moderator' where user_id = $1`, [moderator.userId]);
    const user = await app.signUp();
    const res = await app.request("GET", "/api/admin/alerts", { token: moderator.token });
    expect(res.status).toBe(200);
    const { alerts } = (await res.json()) as { alerts: AlertStatus[] };
    expect(alerts.map((a) => a.id)).toEqual(ALERT_RULES.map((r) => r.id));
    for (const a of alerts) {
      expect(["ok", "pending", "firing"]).toContain(a.state);
      expect(a).toHaveProperty("since");
      expect(a).toHaveProperty("value");
      expect(typeof a.threshold).toBe("number");
    }
    expect((await app.request("GET", "/api/admin/alerts", { token: user.token })).status).toBe(403);
    expect((await app.request("GET", "/api/admin/alerts")).status).toBe(401);
    expect((await app.request("GET", "/api/admin/alerts?x=1", { token: moderator.token })).status).toBe(400);
    expect((await app.request("POST", "/api/admin/alerts", { token: moderator.token })).status).toBe(405);
  });
});
