/**
 * The overview's client component renders on the server (its first paint) from an overview
 * answer: every stat card, the health table, both charts' text summaries and the data table.
 */
import { createElement } from "react";
import { renderToString } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { alertThreshold, alertValue, latency, percent } from "@/components/admin/overview/format";
import { OverviewLive } from "@/components/admin/overview/overview-live";
import { chartPoints, type Overview } from "./overview";
import { emptyPoint } from "@/lib/observability/series";

function fixture(): Overview {
  const start = Date.UTC(2030, 0, 1, 0, 0, 0);
  const minutes = Array.from({ length: 24 * 60 }, (_, i) => emptyPoint(start + i * 60_000));
  minutes[600]!.requests = 40;
  minutes[600]!.errors = 2;
  minutes[600]!.buckets[3] = 36;
  minutes[600]!.buckets[9] = 4;
  const check = { status: "pass" as const, responseTime: 3, observedValue: "ok" };
  return {
    generatedAt: new Date(start + 86_399_000).toISOString(),
    health: { status: "warn", checks: { database: check, redis: { ...check, status: "warn", observedValue: "fallback" }, openai: check, memory: check } },
    store: { kind: "upstash", mode: "fallback" },
    breaker: {
      state: "open",
      failures: 0,
      threshold: 5,
      cooldownMs: 30_000,
      openedAt: new Date(start).toISOString(),
      openUntil: new Date(start + 60_000).toISOString(),
      remainingMs: 30_000,
    },
    inflight: 3,
    queued: 2,
    instancesReporting: 2,
    cache: { hitRate: 0.25, hits: 1, completed: 4 },
    last5m: { requests: 0, errors: 0, errorRate: null, rateLimited: 0, p50Ms: null, p95Ms: null },
    last24h: { requests: 40, errors: 2, errorRate: 0.05, rateLimited: 0, p50Ms: 50, p95Ms: 5000 },
    today: { generations: 7, completed: 5, failed: 2, quotaDenials: 1, rateLimitHits: 9 },
    series: { bucketMinutes: 15, points: chartPoints(minutes) },
  };
}

describe("overview page", () => {
  it("renders the cards, the health table and the charts' text alternatives", () => {
    const html = renderToString(createElement(OverviewLive, { initial: fixture() }));
    for (const text of [
      "OpenAI breaker",
      "Open",
      "In flight now (all instances)",
      "Queued now",
      "2 instances reporting",
      "Cache hit rate, 24 h",
      "25 %",
      "Rate-limit hits today",
      "Redis unreachable, serving from the in-memory fallback",
      "Requests and outcomes, 24 h",
      "Latency p50 / p95, 24 h",
      "40 in all, 2 server errors (5.0 %)",
      "the highest p95 was ≥ 5 s",
      "periods had requests",
    ]) {
      expect(html).toContain(text.replaceAll("'", "&#x27;"));
    }
    expect(html).toContain('role="img"');
    expect(html).toContain('scope="col"');
  });

  it("formats values against thresholds", () => {
    expect(percent(0.06)).toBe("6.0 %");
    expect(percent(null)).toBe("—");
    expect(latency(100)).toBe("≤ 100 ms");
    expect(latency(2000)).toBe("≤ 2 s");
    expect(alertValue(0.6, "ratio")).toBe("60 %");
    expect(alertValue(null, "count")).toBe("unknown");
    expect(alertThreshold(2000, "ms")).toBe("> 2 s");
    expect(alertThreshold(0.05, "ratio")).toBe("> 5.0 %");
  });
});
