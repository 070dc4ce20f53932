"use client";

import { useEffect, useState } from "react";
import { DataTable } from "@/components/admin/data-table";
import type { Overview } from "@/lib/admin/overview";
import { count, latency, percent, utcTime } from "./format";
import { OverviewCharts } from "./overview-charts";

export const OVERVIEW_REFRESH_MS = 15_000;

const STATUS_CLASS = { pass: "state-ok", warn: "state-pending", fail: "state-firing" } as const;
const CHECK_NAMES = { database: "Database", redis: "Redis", openai: "OpenAI", memory: "Memory" } as const;

function Stat({ label, value, detail, testId }: { label: string; value: string; detail?: string; testId?: string }) {
  return (
    <div className="card overview-stat" data-testid={testId}>
      <p className="small muted">{label}</p>
      <p className="overview-value">{value}</p>
      {detail ? <p className="small muted">{detail}</p> : null}
    </div>
  );
}

/** The overview's cards and charts; fetches /api/admin/overview every 15 s. */
export function OverviewLive({ initial }: { initial: Overview }) {
  const [data, setData] = useState(initial);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    let stopped = false;
    const refresh = async () => {
      try {
        const res = await fetch("/api/admin/overview", { headers: { accept: "application/json" }, cache: "no-store" });
        if (!res.ok) throw new Error(String(res.status));
        const next = (await res.json()) as Overview;
        if (!stopped) {
          setData(next);
          setFailed(false);
        }
      } catch {
        if (!stopped) setFailed(true);
      }
    };
    const timer = setInterval(() => void refresh(), OVERVIEW_REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);

  const { health, breaker, last5m, last24h, today, cache } = data;
  return (
    <div className="stack" data-testid="overview">
      <p className="small muted">
        Updated {utcTime(data.generatedAt, true)}; refreshes every 15 seconds.{" "}
        <span role="status">{failed ? "The last refresh failed; showing the previous figures." : ""}</span>
      </p>

      <section className="card stack" aria-labelledby="overview-health">
        <h2 id="overview-health">
          Dependencies <span className={`badge ${STATUS_CLASS[health.status]}`}>{health.status}</span>
        </h2>
        <DataTable
          className="small"
          rows={(Object.keys(CHECK_NAMES) as (keyof typeof CHECK_NAMES)[]).map((name) => ({ name, check: health.checks[name] }))}
          rowKey={(r) => r.name}
          columns={[
            { header: "Check", rowHeader: true, cell: (r) => CHECK_NAMES[r.name] },
            { header: "Status", cell: (r) => <span className={`badge ${STATUS_CLASS[r.check.status]}`}>{r.check.status}</span> },
            {
              header: "Observed",
              cell: (r) => (
                <>
                  {r.check.observedValue ?? "—"}
                  {r.check.output ? <span className="muted"> ({r.check.output})</span> : null}
                </>
              ),
            },
            { header: "Time", cell: (r) => <>{r.check.responseTime} ms</> },
          ]}
        />
        <p className="small muted">
          Store: {data.store.kind === "upstash" ? "Redis" : "in memory"}
          {data.store.mode === "fallback" ? " — Redis unreachable, serving from the in-memory fallback" : ""}.
        </p>
      </section>

      <div className="overview-grid">
        <Stat
          testId="stat-breaker"
          label="OpenAI breaker"
          value={breaker.state === "open" ? "Open" : breaker.state === "half-open" ? "Half-open" : "Closed"}
          detail={breaker.state === "closed" ? `${breaker.failures} of ${breaker.threshold} failures` : `since ${utcTime(breaker.openedAt)}, until ${utcTime(breaker.openUntil)}`}
        />
        <Stat testId="stat-inflight" label="In flight now (all instances)" value={count(data.inflight)} />
        <Stat
          testId="stat-queued"
          label="Queued now"
          value={count(data.queued)}
          detail={`${data.instancesReporting} ${data.instancesReporting === 1 ? "instance" : "instances"} reporting`}
        />
        <Stat
          testId="stat-cache"
          label="Cache hit rate, 24 h"
          value={percent(cache.hitRate)}
          detail={`${count(cache.hits)} of ${count(cache.completed)} captions`}
        />
        <Stat testId="stat-latency" label="Latency p50 / p95, 5 min" value={`${latency(last5m.p50Ms)} / ${latency(last5m.p95Ms)}`} detail={`24 h: ${latency(last24h.p50Ms)} / ${latency(last24h.p95Ms)}`} />
        <Stat
          testId="stat-errors"
          label="Error rate (5xx), 5 min"
          value={percent(last5m.errorRate)}
          detail={`${count(last5m.errors)} of ${count(last5m.requests)}; 24 h: ${percent(last24h.errorRate)} of ${count(last24h.requests)}`}
        />
        <Stat
          testId="stat-generations"
          label="Generations today (UTC)"
          value={count(today.generations)}
          detail={`${count(today.completed)} complete, ${count(today.failed)} failed`}
        />
        <Stat testId="stat-quota" label="Quota denials today" value={count(today.quotaDenials)} />
        <Stat testId="stat-ratelimit" label="Rate-limit hits today" value={count(today.rateLimitHits)} />
      </div>

      <OverviewCharts points={data.series.points} bucketMinutes={data.series.bucketMinutes} />
    </div>
  );
}
