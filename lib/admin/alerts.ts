import "server-only";
import { getDb } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { BREAKER_KEY } from "@/lib/generation/keys";
import { getReadiness } from "@/lib/health/readiness";
import { getKv } from "@/lib/kv";
import type { KvStore } from "@/lib/kv/types";
import { logFor } from "@/lib/observability/logger";
import { outsideRequest } from "@/lib/observability/request-stats";
import { readSeries } from "@/lib/observability/series";
import { publishEngineGauges, windowStats } from "./overview";

/**
 * The runbook's alert rules (PRODUCT §7), evaluated live from data every instance shares: the
 * per-minute request series in Redis, readiness, the breaker, and SQL on
 * litstatus.security_events and litstatus.generations. Each rule's state (ok → pending →
 * firing → ok) lives in the Redis hash `alerts:state`, changed only by compare-and-set, so
 * every instance answers the same and each transition happens once. When ALERT_WEBHOOK_URL is
 * set, the instance that made a firing or resolving transition also claims it (SET NX on
 * `alerts:sent:<rule>:<state>:<since of the state left>`) and POSTs
 * `{ alert, state, value, since }` with a 3 s timeout and one retry, in the background.
 * Evaluated on every GET /api/admin/alerts and every 15 s on a timer outside any request.
 */

export type AlertState = "ok" | "pending" | "firing";

export interface AlertStatus {
  id: AlertId;
  title: string;
  state: AlertState;
  /** When the rule entered this state (ISO-8601); null when it has never left `ok`. */
  since: string | null;
  /** The current value; null when it cannot be measured now (e.g. the database is down). */
  value: number | null;
  threshold: number;
  /** How the value is compared with the threshold. */
  unit: "ratio" | "ms" | "count" | "bool";
  /** Breached this long before firing (ms; 0 fires at once). */
  forMs: number;
  /** Informational: not one of the runbook's seven. */
  informational?: boolean;
}

const MINUTE_MS = 60_000;
const WINDOW_MS = 5 * MINUTE_MS;
export const STATE_KEY = "alerts:state";
const STATE_TTL_SECONDS = 30 * 24 * 3600;
const CLAIM_TTL_SECONDS = 7 * 24 * 3600;
export const ALERT_EVAL_INTERVAL_MS = 15_000;
export const WEBHOOK_TIMEOUT_MS = 3000;
const WEBHOOK_RETRY_DELAY_MS = 500;

interface RuleDef {
  id: string;
  title: string;
  threshold: number;
  unit: AlertStatus["unit"];
  forMs: number;
  informational?: boolean;
}

export const ALERT_RULES = [
  { id: "error_rate", title: "Error rate (5xx) over 5 min > 5 %", threshold: 0.05, unit: "ratio", forMs: WINDOW_MS },
  { id: "p95_latency", title: "p95 latency over 5 min > 2 s", threshold: 2000, unit: "ms", forMs: WINDOW_MS },
  { id: "rate_limit_violations", title: "Rate-limit violations in 5 min > 100", threshold: 100, unit: "count", forMs: 0 },
  { id: "database_unreachable", title: "Database unreachable", threshold: 0, unit: "bool", forMs: 0 },
  { id: "redis_unreachable", title: "Redis unreachable (in-memory fallback active)", threshold: 0, unit: "bool", forMs: 0 },
  { id: "openai_error_rate", title: "OpenAI error rate over 5 min > 50 %", threshold: 0.5, unit: "ratio", forMs: 0 },
  { id: "security_high_severity", title: "High-severity security events in 5 min > 10", threshold: 10, unit: "count", forMs: 0 },
  { id: "breaker_open", title: "OpenAI circuit breaker open", threshold: 0, unit: "bool", forMs: 0, informational: true },
] as const satisfies readonly RuleDef[];

export type AlertId = (typeof ALERT_RULES)[number]["id"];

/** What the rules look at, measured once per evaluation. null: not measurable now. */
export interface AlertInputs {
  errorRate: number | null;
  p95Ms: number | null;
  rateLimitViolations: number | null;
  databaseDown: boolean;
  redisDown: boolean;
  openaiErrorRate: number | null;
  highSeverityEvents: number | null;
  breakerOpen: boolean | null;
}

interface StoredState {
  state: AlertState;
  since: number;
}

interface SqlCounts {
  rate_limited: number;
  high_severity: number;
  upstream_failures: number;
  model_successes: number;
}

const COUNTS_SQL = `
select
  (select count(*)::int from litstatus.security_events where created_at > $1 and created_at <= $2 and event_type = 'rate_limited') as rate_limited,
  (select count(*)::int from litstatus.security_events where created_at > $1 and created_at <= $2 and severity in ('error', 'critical')) as high_severity,
  (select count(*)::int from litstatus.security_events where created_at > $1 and created_at <= $2
     and event_type in ('upstream_failure', 'model_invalid_response')) as upstream_failures,
  (select count(*)::int from litstatus.generations where created_at > $1 and created_at <= $2
     and status = 'complete' and not cached and coalesce(provider, '') <> 'offline') as model_successes`;

/** Measures every rule's input (the series: one kv round trip; the SQL: one statement). */
export async function gatherAlertInputs(now = Date.now()): Promise<AlertInputs> {
  const kv = getKv();
  const nowMinute = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  const [readiness, minutes, breaker, counts] = await Promise.all([
    getReadiness(now),
    readSeries(kv, nowMinute - 4 * MINUTE_MS, now).catch(() => null),
    kv.breakerRead(BREAKER_KEY).catch(() => null),
    getDb()
      .then((db) => db.query<SqlCounts>(COUNTS_SQL, [new Date(now - WINDOW_MS).toISOString(), new Date(now).toISOString()]))
      .then((rows) => rows[0] ?? null)
      .catch(() => null),
  ]);
  const stats = minutes ? windowStats(minutes) : null;
  const modelCalls = counts ? counts.upstream_failures + counts.model_successes : 0;
  return {
    // No requests in the window: a rate of 0 and no p95 (not breached); null only when unreadable.
    errorRate: stats ? (stats.errorRate ?? 0) : null,
    p95Ms: stats?.p95Ms ?? null,
    rateLimitViolations: counts?.rate_limited ?? null,
    databaseDown: readiness.checks.database.status === "fail",
    redisDown: readiness.checks.redis.status !== "pass" || kv.status().mode === "fallback",
    openaiErrorRate: counts && modelCalls > 0 ? counts.upstream_failures / modelCalls : counts ? 0 : null,
    highSeverityEvents: counts?.high_severity ?? null,
    breakerOpen: breaker ? breaker.state === "open" : null,
  };
}

/** Each rule's value and whether it is breached now (null value: unknown, the state is kept). */
export function measure(id: AlertId, inputs: AlertInputs): { value: number | null; breached: boolean | null } {
  const above = (value: number | null, threshold: number) => ({ value, breached: value === null ? null : value > threshold });
  const flag = (down: boolean | null) => ({ value: down === null ? null : down ? 1 : 0, breached: down });
  switch (id) {
    case "error_rate":
      return above(inputs.errorRate, 0.05);
    case "p95_latency":
      // No p95 (no requests) is not a breach when the series was readable.
      return inputs.p95Ms === null ? { value: null, breached: inputs.errorRate === null ? null : false } : above(inputs.p95Ms, 2000);
    case "rate_limit_violations":
      return above(inputs.rateLimitViolations, 100);
    case "database_unreachable":
      return flag(inputs.databaseDown);
    case "redis_unreachable":
      return flag(inputs.redisDown);
    case "openai_error_rate":
      return above(inputs.openaiErrorRate, 0.5);
    case "security_high_severity":
      return above(inputs.highSeverityEvents, 10);
    case "breaker_open":
      return flag(inputs.breakerOpen);
  }
}

/** The next state from the stored one; null when nothing changes. */
export function nextState(prev: StoredState | null, breached: boolean | null, forMs: number, now: number): StoredState | null {
  const state = prev?.state ?? "ok";
  if (breached === null) return null;
  if (breached) {
    if (state === "ok") return { state: forMs > 0 ? "pending" : "firing", since: now };
    if (state === "pending" && now - (prev?.since ?? now) >= forMs) return { state: "firing", since: now };
    return null;
  }
  return state === "ok" ? null : { state: "ok", since: now };
}

function parseState(raw: string | undefined): StoredState | null {
  if (!raw) return null;
  try {
    const s = JSON.parse(raw) as Partial<StoredState>;
    if ((s.state === "ok" || s.state === "pending" || s.state === "firing") && typeof s.since === "number") return { state: s.state, since: s.since };
  } catch {
    // unreadable: treated as never set
  }
  return null;
}

export interface WebhookPayload {
  alert: AlertId;
  state: "firing" | "resolved";
  value: number | null;
  since: string;
}

export interface EvaluateOptions {
  now?: number;
  /** Default: measured by gatherAlertInputs. */
  inputs?: AlertInputs;
  /** Default: ALERT_WEBHOOK_URL. */
  webhookUrl?: string | null;
  webhookTimeoutMs?: number;
  kv?: KvStore;
}

const globalForAlerts = globalThis as unknown as {
  __litstatusAlerts?: { deliveries: Set<Promise<void>>; timer?: ReturnType<typeof setInterval>; running?: Promise<unknown> };
};

function alertsGlobal() {
  return (globalForAlerts.__litstatusAlerts ??= { deliveries: new Set() });
}

/** POSTs the payload; one retry after a failure (network, timeout or non-2xx). True when delivered. */
export async function deliverWebhook(url: string, payload: WebhookPayload, timeoutMs = WEBHOOK_TIMEOUT_MS): Promise<boolean> {
  const log = logFor("alerts");
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: "manual",
      });
      await res.body?.cancel().catch(() => {});
      if (res.ok) return true;
      log.warn({ alert: payload.alert, state: payload.state, status: res.status, attempt }, "alert webhook answered an error");
    } catch (error) {
      log.warn({ alert: payload.alert, state: payload.state, error: error instanceof Error ? error.name : String(error), attempt }, "alert webhook failed");
    }
    if (attempt === 1) await new Promise((r) => setTimeout(r, WEBHOOK_RETRY_DELAY_MS));
  }
  return false;
}

/** Waits for the webhook deliveries started so far (tests; shutdown). */
export async function settleAlertDeliveries(): Promise<void> {
  const { deliveries } = alertsGlobal();
  while (deliveries.size > 0) await Promise.allSettled([...deliveries]);
}

/**
 * Evaluates every rule, moves the shared state by compare-and-set, and starts the webhook for
 * each firing/resolving transition this call won. Never waits for a webhook.
 */
export async function evaluateAlerts(options: EvaluateOptions = {}): Promise<AlertStatus[]> {
  const now = options.now ?? Date.now();
  const kv = options.kv ?? getKv();
  const inputs = options.inputs ?? (await gatherAlertInputs(now));
  const webhookUrl = options.webhookUrl === undefined ? (getEnv().ALERT_WEBHOOK_URL ?? null) : options.webhookUrl;
  const [stored = {}] = await kv.hashReadMany([STATE_KEY]);

  return Promise.all(
    ALERT_RULES.map(async (rule): Promise<AlertStatus> => {
      const { value, breached } = measure(rule.id, inputs);
      const raw = stored[rule.id];
      let current = parseState(raw);
      const next = nextState(current, breached, rule.forMs, now);
      if (next) {
        const won = await kv.hashSet(STATE_KEY, rule.id, JSON.stringify(next), STATE_TTL_SECONDS, raw ?? null);
        if (won) {
          const left = current;
          current = next;
          const transition = next.state === "firing" ? "firing" : next.state === "ok" && left?.state === "firing" ? "resolved" : null;
          if (transition && webhookUrl) notify(kv, webhookUrl, rule.id, transition, value, next.since, left?.since ?? 0, options.webhookTimeoutMs);
        } else {
          const [again = {}] = await kv.hashReadMany([STATE_KEY]);
          current = parseState(again[rule.id]);
        }
      }
      return {
        id: rule.id,
        title: rule.title,
        state: current?.state ?? "ok",
        since: current ? new Date(current.since).toISOString() : null,
        value,
        threshold: rule.threshold,
        unit: rule.unit,
        forMs: rule.forMs,
        ...("informational" in rule ? { informational: true } : {}),
      };
    }),
  );
}

/** Claims the transition across instances, then delivers in the background (outside the request). */
function notify(
  kv: KvStore,
  url: string,
  alert: AlertId,
  state: "firing" | "resolved",
  value: number | null,
  since: number,
  leftSince: number,
  timeoutMs?: number,
): void {
  const { deliveries } = alertsGlobal();
  const delivery = outsideRequest(async () => {
    try {
      const claimed = await kv.setIfAbsent(`alerts:sent:${alert}:${state}:${leftSince}`, String(since), CLAIM_TTL_SECONDS);
      if (claimed) await deliverWebhook(url, { alert, state, value, since: new Date(since).toISOString() }, timeoutMs);
    } catch (error) {
      logFor("alerts").warn({ alert, error: error instanceof Error ? error.message : String(error) }, "alert webhook not sent");
    }
  });
  deliveries.add(delivery);
  void delivery.finally(() => deliveries.delete(delivery));
}

/** GET /api/admin/alerts: evaluates now and answers every rule. */
export async function readAlerts(): Promise<AlertStatus[]> {
  startAlertEvaluator();
  return evaluateAlerts();
}

/**
 * Evaluates every ALERT_EVAL_INTERVAL_MS on a timer started outside any request (unref'd), so
 * transitions (and webhooks) happen without anyone watching the console. Idempotent.
 */
export function startAlertEvaluator(): void {
  publishEngineGauges();
  const g = alertsGlobal();
  g.timer ??= outsideRequest(() => {
    const timer = setInterval(() => {
      if (g.running) return;
      g.running = evaluateAlerts()
        .catch((error: unknown) => logFor("alerts").warn({ error: error instanceof Error ? error.message : String(error) }, "alert evaluation failed"))
        .finally(() => (g.running = undefined));
    }, ALERT_EVAL_INTERVAL_MS);
    timer.unref();
    return timer;
  });
}
