import { beforeEach, describe, expect, it } from "vitest";
import { AppError } from "@/lib/errors";
import {
  LATENCY_BUCKETS_SECONDS,
  adjustGenerationsInFlight,
  adjustGenerationsQueued,
  countCacheHit,
  countCacheMiss,
  countGeneration,
  countGenerationFailure,
  countModelTokens,
  countQuotaDenial,
  countRateLimitHit,
  countSecurityEvent,
  createMetrics,
  getMetrics,
  metricsText,
  observeBreakerAdmission,
  observeBreakerState,
  observeDependencies,
  observeRequestMetrics,
  requireMetricsToken,
  trackEventWriter,
  type Metrics,
} from "./metrics";

/** Parses Prometheus text: `name{labels}` → value (labels in their exposition order). */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

let metrics: Metrics;
const globals = globalThis as unknown as { __litstatusMetrics?: Metrics };

/** A fresh process-wide registry per test: the helpers write to it. */
beforeEach(() => {
  metrics = createMetrics({ defaultMetrics: false });
  globals.__litstatusMetrics = metrics;
});

async function sample(): Promise<Map<string, number>> {
  return parse(await metricsText());
}

describe("the registry", () => {
  it("is our own, with every litstatus_ series, and default process metrics unless turned off", async () => {
    const withDefaults = createMetrics();
    const names = (await withDefaults.registry.getMetricsAsJSON()).map((m) => m.name);
    for (const name of [
      "litstatus_http_requests_total",
      "litstatus_http_request_duration_seconds",
      "litstatus_generations_total",
      "litstatus_model_tokens_total",
      "litstatus_quota_denials_total",
      "litstatus_rate_limit_hits_total",
      "litstatus_generations_in_flight",
      "litstatus_generations_queued",
      "litstatus_breaker_state",
      "litstatus_cache_hits_total",
      "litstatus_cache_misses_total",
      "litstatus_event_buffer_size",
      "litstatus_event_drops_total",
      "litstatus_security_events_total",
      "litstatus_dependency_up",
    ]) {
      expect(names).toContain(name);
    }
    expect(names).toContain("process_cpu_seconds_total");
    expect((await metrics.registry.getMetricsAsJSON()).map((m) => m.name)).not.toContain("process_cpu_seconds_total");
    // Two registries do not share values.
    withDefaults.cacheHits.inc();
    expect((await metrics.cacheHits.get()).values[0]?.value ?? 0).toBe(0);
  });

  it("getMetrics keeps one per process", () => {
    expect(getMetrics()).toBe(metrics);
    expect(getMetrics()).toBe(getMetrics());
  });
});

describe("request series", () => {
  it("counts requests and observes latency by route name, method and status", async () => {
    observeRequestMetrics({ route: "generate", method: "POST", status: 200, ms: 1500 });
    observeRequestMetrics({ route: "generate", method: "POST", status: 200, ms: 30 });
    observeRequestMetrics({ route: "me.get", method: "GET", status: 401, ms: 2 });
    observeRequestMetrics({ route: "api.not_found", method: "PROPFIND", status: 404, ms: 1 });
    const s = await sample();
    expect(s.get('litstatus_http_requests_total{route="api.not_found",method="other",status="404"}')).toBe(1);
    expect(s.get('litstatus_http_requests_total{route="generate",method="POST",status="200"}')).toBe(2);
    expect(s.get('litstatus_http_requests_total{route="me.get",method="GET",status="401"}')).toBe(1);
    expect(s.get('litstatus_http_request_duration_seconds_count{route="generate",method="POST",status="200"}')).toBe(2);
    expect(s.get('litstatus_http_request_duration_seconds_sum{route="generate",method="POST",status="200"}')).toBeCloseTo(1.53);
    expect(s.get('litstatus_http_request_duration_seconds_bucket{le="1",route="generate",method="POST",status="200"}')).toBe(1);
    expect(s.get('litstatus_http_request_duration_seconds_bucket{le="2",route="generate",method="POST",status="200"}')).toBe(2);
  });

  it("has 2 s as a latency bucket boundary (the p95 > 2 s rule)", () => {
    expect(LATENCY_BUCKETS_SECONDS).toContain(2);
  });
});

describe("generation series", () => {
  it("counts outcomes by provider and cached; quota denials are not generations", async () => {
    countGeneration("success", "openai", false);
    countGeneration("success", "openai", true);
    countGenerationFailure(new AppError("upstream_unavailable"), "openai");
    countGenerationFailure(new AppError("busy"), "openai");
    countGenerationFailure(new AppError("content_blocked"), "offline");
    countGenerationFailure(new Error("boom"), "openai");
    countGenerationFailure(new AppError("quota_exceeded"), "openai");
    countGeneration("success", "somebody-else", false);
    const s = await sample();
    expect(s.get('litstatus_generations_total{outcome="success",provider="openai",cached="false"}')).toBe(1);
    expect(s.get('litstatus_generations_total{outcome="success",provider="openai",cached="true"}')).toBe(1);
    expect(s.get('litstatus_generations_total{outcome="upstream_error",provider="openai",cached="false"}')).toBe(1);
    expect(s.get('litstatus_generations_total{outcome="busy",provider="openai",cached="false"}')).toBe(1);
    expect(s.get('litstatus_generations_total{outcome="blocked",provider="offline",cached="false"}')).toBe(1);
    expect(s.get('litstatus_generations_total{outcome="error",provider="openai",cached="false"}')).toBe(1);
    // An unknown label value collapses to "other": label sets stay bounded.
    expect(s.get('litstatus_generations_total{outcome="success",provider="other",cached="false"}')).toBe(1);
    expect([...s.keys()].filter((k) => k.startsWith("litstatus_generations_total")).length).toBe(7);
  });

  it("counts tokens by kind, quota denials by plan, rate-limit hits by limit, cache hits and misses", async () => {
    countModelTokens({ promptTokens: 120, completionTokens: 30 });
    countModelTokens({ promptTokens: 5, completionTokens: 0 });
    countModelTokens(undefined);
    countQuotaDenial("guest");
    countQuotaDenial("free");
    countQuotaDenial("free");
    countQuotaDenial("nonsense");
    countRateLimitHit("api");
    countRateLimitHit("generate");
    countRateLimitHit("generate");
    countCacheHit();
    countCacheMiss();
    countCacheMiss();
    const s = await sample();
    expect(s.get('litstatus_model_tokens_total{kind="prompt"}')).toBe(125);
    expect(s.get('litstatus_model_tokens_total{kind="completion"}')).toBe(30);
    expect(s.get('litstatus_quota_denials_total{plan="guest"}')).toBe(1);
    expect(s.get('litstatus_quota_denials_total{plan="free"}')).toBe(2);
    expect(s.get('litstatus_quota_denials_total{plan="other"}')).toBe(1);
    expect(s.get('litstatus_rate_limit_hits_total{limit="api"}')).toBe(1);
    expect(s.get('litstatus_rate_limit_hits_total{limit="generate"}')).toBe(2);
    expect(s.get("litstatus_cache_hits_total")).toBe(1);
    expect(s.get("litstatus_cache_misses_total")).toBe(2);
  });

  it("in-flight and queued gauges go up and down", async () => {
    adjustGenerationsInFlight(1);
    adjustGenerationsInFlight(1);
    adjustGenerationsQueued(1);
    let s = await sample();
    expect(s.get("litstatus_generations_in_flight")).toBe(2);
    expect(s.get("litstatus_generations_queued")).toBe(1);
    adjustGenerationsInFlight(-1);
    adjustGenerationsQueued(-1);
    s = await sample();
    expect(s.get("litstatus_generations_in_flight")).toBe(1);
    expect(s.get("litstatus_generations_queued")).toBe(0);
  });

  it("breaker state: 0 closed, 1 half-open, 2 open, from admissions and settlements", async () => {
    const state = async () => (await sample()).get("litstatus_breaker_state");
    expect(await state()).toBe(0);
    observeBreakerAdmission({ outcome: "open" });
    expect(await state()).toBe(2);
    observeBreakerAdmission({ outcome: "hit" });
    observeBreakerAdmission({ outcome: "quota_denied" });
    expect(await state()).toBe(2);
    observeBreakerAdmission({ outcome: "ok", probe: true });
    expect(await state()).toBe(1);
    observeBreakerAdmission({ outcome: "ok", probe: false });
    expect(await state()).toBe(0);
    observeBreakerState("open");
    expect(await state()).toBe(2);
    observeBreakerState("closed");
    expect(await state()).toBe(0);
  });
});

describe("event writer, security events and dependencies", () => {
  it("reads every tracked writer's buffer and drops at scrape time", async () => {
    const a = { buffered: 3, dropped: 1 };
    const b = { buffered: 2, dropped: 0 };
    trackEventWriter(() => a);
    trackEventWriter(() => b);
    let s = await sample();
    expect(s.get("litstatus_event_buffer_size")).toBe(5);
    expect(s.get("litstatus_event_drops_total")).toBe(1);
    a.buffered = 0;
    a.dropped = 4;
    b.dropped = 2;
    s = await sample();
    expect(s.get("litstatus_event_buffer_size")).toBe(2);
    expect(s.get("litstatus_event_drops_total")).toBe(6);
  });

  it("counts security events by severity, bounded", async () => {
    countSecurityEvent("error");
    countSecurityEvent("critical");
    countSecurityEvent("error");
    countSecurityEvent("whatever");
    const s = await sample();
    expect(s.get('litstatus_security_events_total{severity="error"}')).toBe(2);
    expect(s.get('litstatus_security_events_total{severity="critical"}')).toBe(1);
    expect(s.get('litstatus_security_events_total{severity="other"}')).toBe(1);
  });

  it("dependency_up: pass is 1; fail, and Redis on the fallback (warn), are 0", async () => {
    observeDependencies({ checks: { database: { status: "pass" }, redis: { status: "warn" } } });
    let s = await sample();
    expect(s.get('litstatus_dependency_up{dependency="database"}')).toBe(1);
    expect(s.get('litstatus_dependency_up{dependency="redis"}')).toBe(0);
    observeDependencies({ checks: { database: { status: "fail" }, redis: { status: "pass" } } });
    s = await sample();
    expect(s.get('litstatus_dependency_up{dependency="database"}')).toBe(0);
    expect(s.get('litstatus_dependency_up{dependency="redis"}')).toBe(1);
  });
});

describe("requireMetricsToken", () => {
  const TOKEN = "metrics-token-0123456789abcdef";
  const code = (authorization: string | null, expected: string | undefined) => {
    try {
      requireMetricsToken(authorization, expected);
      return "ok";
    } catch (error) {
      return error instanceof AppError ? error.code : "thrown";
    }
  };

  it("is 404 not_found while the token is unset, whatever is sent", () => {
    expect(code(`Bearer ${TOKEN}`, undefined)).toBe("not_found");
    expect(code(null, "")).toBe("not_found");
  });

  it("is 401 for a missing, malformed, wrong, shorter or longer token; passes the right one", () => {
    expect(code(null, TOKEN)).toBe("unauthorized");
    expect(code("", TOKEN)).toBe("unauthorized");
    expect(code(TOKEN, TOKEN)).toBe("unauthorized");
    expect(code(`Basic ${TOKEN}`, TOKEN)).toBe("unauthorized");
    expect(code("Bearer ", TOKEN)).toBe("unauthorized");
    expect(code(`Bearer ${TOKEN.slice(0, -1)}`, TOKEN)).toBe("unauthorized");
    expect(code(`Bearer ${TOKEN}x`, TOKEN)).toBe("unauthorized");
    expect(code(`Bearer ${TOKEN.toUpperCase()}`, TOKEN)).toBe("unauthorized");
    expect(code(`Bearer ${TOKEN}`, TOKEN)).toBe("ok");
    expect(code(`bearer ${TOKEN}`, TOKEN)).toBe("ok");
  });
});

describe("metrics never break the measured code path", () => {
  it("a broken registry is swallowed", () => {
    globals.__litstatusMetrics = {} as Metrics;
    expect(() => {
      countCacheHit();
      countGeneration("success", "openai", false);
      observeRequestMetrics({ route: "x", method: "GET", status: 200, ms: 1 });
    }).not.toThrow();
  });
});
