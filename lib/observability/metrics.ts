import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { AppError } from "@/lib/errors";
import { bearerMatches } from "@/lib/util/bearer";
import type { RequestObservation } from "./requests";

/**
 * The Prometheus series of this process (GET /api/metrics), on a registry of our own (not
 * prom-client's global default, so tests can build fresh ones). Every series is moved where the
 * work happens (route wrapper, generation engine, rate limiter, event writer), never by the
 * metrics route. Label sets are bounded: `route` is the route's name, never the raw path;
 * `status` an HTTP status; `outcome`, `provider`, `plan`, `limit`, `severity` small enums.
 */

/** Request latency buckets (seconds); 2 s is a boundary so the p95 > 2 s rule is exact. */
export const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10, 30];

export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** What a generation came to (quota denials are counted apart, in quota_denials_total). */
export type GenerationOutcome = "success" | "upstream_error" | "busy" | "blocked" | "error";
export interface EventWriterStats {
  buffered: number;
  dropped: number;
}
export type BreakerGaugeState = "closed" | "half-open" | "open";

const BREAKER_VALUE: Record<BreakerGaugeState, number> = { closed: 0, "half-open": 1, open: 2 };
const SEVERITIES = new Set(["info", "warn", "error", "critical"]);
const PROVIDERS = new Set(["openai", "offline"]);
const PLANS = new Set(["guest", "free", "pro"]);
const LIMITS = new Set(["generate", "api", "signin"]);
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

function oneOf(allowed: ReadonlySet<string>, value: string): string {
  return allowed.has(value) ? value : "other";
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const eventWriters = new Set<() => EventWriterStats>();
  const sumOf = (field: keyof EventWriterStats) => {
    let total = 0;
    for (const stats of eventWriters) total += stats()[field];
    return total;
  };
  return {
    registry,
    eventWriters,
    httpRequests: new Counter({
      name: "litstatus_http_requests_total",
      help: "API requests answered, by route name, method and HTTP status.",
      labelNames: ["route", "method", "status"] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: "litstatus_http_request_duration_seconds",
      help: "API request latency in seconds, by route name, method and HTTP status.",
      labelNames: ["route", "method", "status"] as const,
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
    generations: new Counter({
      name: "litstatus_generations_total",
      help: "Generations by outcome (success, upstream_error, busy, blocked, error), provider and whether the answer came from the cache.",
      labelNames: ["outcome", "provider", "cached"] as const,
      registers,
    }),
    modelTokens: new Counter({
      name: "litstatus_model_tokens_total",
      help: "Model tokens used, by kind (prompt, completion).",
      labelNames: ["kind"] as const,
      registers,
    }),
    quotaDenials: new Counter({
      name: "litstatus_quota_denials_total",
      help: "Generations refused for the daily quota, by plan.",
      labelNames: ["plan"] as const,
      registers,
    }),
    rateLimitHits: new Counter({
      name: "litstatus_rate_limit_hits_total",
      help: "Requests refused by a burst rate limit, by limit.",
      labelNames: ["limit"] as const,
      registers,
    }),
    inFlight: new Gauge({
      name: "litstatus_generations_in_flight",
      help: "Model calls running now on this instance.",
      registers,
    }),
    queued: new Gauge({
      name: "litstatus_generations_queued",
      help: "Generations waiting for a slot of the global in-flight cap on this instance.",
      registers,
    }),
    breakerState: new Gauge({
      name: "litstatus_breaker_state",
      help: "The model circuit breaker as this instance last saw it: 0 closed, 1 half-open, 2 open.",
      registers,
    }),
    cacheHits: new Counter({ name: "litstatus_cache_hits_total", help: "Generations answered from the caption cache.", registers }),
    cacheMisses: new Counter({ name: "litstatus_cache_misses_total", help: "Caption cache lookups that missed.", registers }),
    eventBufferSize: new Gauge({
      name: "litstatus_event_buffer_size",
      help: "Records (security events, funnel events, generations) buffered for the database.",
      registers,
      collect() {
        this.set(sumOf("buffered"));
      },
    }),
    eventDrops: new Counter({
      name: "litstatus_event_drops_total",
      help: "Buffered records given up on (buffer full, rejected by the database, unusable).",
      registers,
      collect() {
        // The writers count their own drops where they happen; this reads their running totals.
        this.reset();
        this.inc(sumOf("dropped"));
      },
    }),
    securityEvents: new Counter({
      name: "litstatus_security_events_total",
      help: "Security events recorded, by severity.",
      labelNames: ["severity"] as const,
      registers,
    }),
    dependencyUp: new Gauge({
      name: "litstatus_dependency_up",
      help: "Readiness of a dependency at the last scrape: 1 reachable, 0 not (redis 0 = in-memory fallback active).",
      labelNames: ["dependency"] as const,
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

const globalForMetrics = globalThis as unknown as { __litstatusMetrics?: Metrics };

/** The process-wide metrics (kept on globalThis so hot reload does not register them twice). */
export function getMetrics(): Metrics {
  globalForMetrics.__litstatusMetrics ??= createMetrics();
  return globalForMetrics.__litstatusMetrics;
}

/** Never lets a metrics failure reach the code path being measured. */
function safely(work: (m: Metrics) => void): void {
  try {
    work(getMetrics());
  } catch {
    // Metrics must never break a request.
  }
}

/** Called by the route wrapper once per finished request (lib/observability/requests.ts). */
export function observeRequestMetrics({ route, method, status, ms }: RequestObservation): void {
  safely((m) => {
    const labels = { route, method: oneOf(METHODS, method), status: String(status) };
    m.httpRequests.inc(labels);
    m.httpDuration.observe(labels, ms / 1000);
  });
}

export function countGeneration(outcome: GenerationOutcome, provider: string, cached: boolean): void {
  safely((m) => m.generations.inc({ outcome, provider: oneOf(PROVIDERS, provider), cached: String(cached) }));
}

/** What a failed generation counts as; quota denials are not generations (quota_denials_total). */
export function generationOutcomeOf(error: unknown): GenerationOutcome | null {
  const code = error instanceof AppError ? error.code : "internal";
  switch (code) {
    case "quota_exceeded":
      return null;
    case "upstream_unavailable":
      return "upstream_error";
    case "busy":
      return "busy";
    case "content_blocked":
      return "blocked";
    default:
      return "error";
  }
}

/** A generation that was admitted and failed (from the settlement). */
export function countGenerationFailure(error: unknown, provider: string): void {
  const outcome = generationOutcomeOf(error);
  if (outcome) countGeneration(outcome, provider, false);
}

export function countModelTokens(usage: { promptTokens: number; completionTokens: number } | undefined): void {
  if (!usage) return;
  safely((m) => {
    if (usage.promptTokens > 0) m.modelTokens.inc({ kind: "prompt" }, usage.promptTokens);
    if (usage.completionTokens > 0) m.modelTokens.inc({ kind: "completion" }, usage.completionTokens);
  });
}

export function countQuotaDenial(plan: string): void {
  safely((m) => m.quotaDenials.inc({ plan: oneOf(PLANS, plan) }));
}

export function countRateLimitHit(limit: string): void {
  safely((m) => m.rateLimitHits.inc({ limit: oneOf(LIMITS, limit) }));
}

export function adjustGenerationsInFlight(delta: number): void {
  safely((m) => m.inFlight.inc(delta));
}

export function adjustGenerationsQueued(delta: number): void {
  safely((m) => m.queued.inc(delta));
}

export function observeBreakerState(state: BreakerGaugeState): void {
  safely((m) => m.breakerState.set(BREAKER_VALUE[state]));
}

/**
 * What a generation's admission (checked against the breaker) says about it: refused as open,
 * admitted as the half-open probe, or admitted past a closed breaker. Hits and quota denials
 * say nothing about the breaker.
 */
export function observeBreakerAdmission(result: { outcome: string; probe?: boolean }): void {
  if (result.outcome === "open") observeBreakerState("open");
  else if (result.outcome === "ok") observeBreakerState(result.probe ? "half-open" : "closed");
}

export function countCacheHit(): void {
  safely((m) => m.cacheHits.inc());
}

export function countCacheMiss(): void {
  safely((m) => m.cacheMisses.inc());
}

/**
 * Reports a record writer (lib/events/writer.ts) in event_buffer_size and event_drops_total: its
 * records buffered now and its running count of drops, read at each scrape. One per process in
 * production; writers live as long as the process.
 */
export function trackEventWriter(stats: () => EventWriterStats, metrics: Metrics = getMetrics()): void {
  metrics.eventWriters.add(stats);
}

export function countSecurityEvent(severity: string): void {
  safely((m) => m.securityEvents.inc({ severity: oneOf(SEVERITIES, severity) }));
}

/** Readiness as the metrics route saw it at scrape time (database, and Redis without the fallback). */
export function observeDependencies(readiness: { checks: { database: { status: string }; redis: { status: string } } }): void {
  safely((m) => {
    m.dependencyUp.set({ dependency: "database" }, readiness.checks.database.status === "pass" ? 1 : 0);
    // warn = Redis unreachable, requests served from the in-memory fallback.
    m.dependencyUp.set({ dependency: "redis" }, readiness.checks.redis.status === "pass" ? 1 : 0);
  });
}

/**
 * The bearer token check of GET /api/metrics: 404 `not_found` while METRICS_TOKEN is unset (the
 * endpoint does not exist), 401 for a missing or wrong token. Both sides are hashed first, so the
 * constant-time comparison also hides the token's length (lib/http/bearer.ts).
 */
export function requireMetricsToken(authorization: string | null, expected: string | undefined, previous?: string): void {
  if (!expected) throw new AppError("not_found");
  // During a rotation the previous token (METRICS_TOKEN_PREVIOUS) is still accepted.
  if (!bearerMatches(authorization, [expected, previous])) throw new AppError("unauthorized", "A valid metrics token is required.");
}

/** The exposition text of `metrics` (the process-wide ones by default). */
export function metricsText(metrics: Metrics = getMetrics()): Promise<string> {
  return metrics.registry.metrics();
}
