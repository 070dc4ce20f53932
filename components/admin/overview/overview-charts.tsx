"use client";

import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from "recharts";
import type { ChartPoint } from "@/lib/admin/overview";
import { count, latency, percent } from "./format";

const AXIS = "#8a8f9a";
const hhmm = (iso: string): string => iso.slice(11, 16);

/** The 24 h of requests by outcome and latency (recharts); each chart has a summary and a data table. */
export function OverviewCharts({ points, bucketMinutes }: { points: ChartPoint[]; bucketMinutes: number }) {
  const total = points.reduce((n, p) => n + p.requests, 0);
  const errors = points.reduce((n, p) => n + p.errors, 0);
  const peak = points.reduce<ChartPoint | null>((best, p) => (best === null || p.requests > best.requests ? p : best), null);
  const worstP95 = points.reduce<number | null>((worst, p) => (p.p95Ms !== null && (worst === null || p.p95Ms > worst) ? p.p95Ms : worst), null);
  const requestsSummary =
    `Requests over the last 24 hours per ${bucketMinutes} minutes: ${count(total)} in all, ${count(errors)} server errors (${percent(total ? errors / total : null)})` +
    (peak && peak.requests > 0 ? `; the busiest ${bucketMinutes} minutes began at ${hhmm(peak.at)} UTC with ${count(peak.requests)}.` : ".");
  const latencySummary =
    `Latency over the last 24 hours per ${bucketMinutes} minutes: the highest p95 was ${latency(worstP95)}.` +
    " Values are the upper bounds of histogram buckets.";
  const withTraffic = points.filter((p) => p.requests > 0);

  return (
    <div className="stack">
      <section className="card stack" aria-labelledby="chart-requests">
        <h2 id="chart-requests">Requests and outcomes, 24 h</h2>
        <p className="small muted">{requestsSummary}</p>
        <div className="overview-chart" role="img" aria-label={requestsSummary} data-testid="chart-requests">
          <BarChart responsive accessibilityLayer={false} data={points} margin={{ top: 4, right: 8, bottom: 4, left: 0 }} style={{ width: "100%", height: 240 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} stroke={AXIS} strokeOpacity={0.35} />
            <XAxis dataKey="at" tickFormatter={hhmm} minTickGap={24} tick={{ fontSize: 12 }} stroke={AXIS} />
            <YAxis allowDecimals={false} width={40} tick={{ fontSize: 12 }} stroke={AXIS} />
            <Tooltip labelFormatter={(v) => (typeof v === "string" ? `${hhmm(v)} UTC` : "")} />
            <Legend wrapperStyle={{ fontSize: 13 }} />
            <Bar dataKey="ok" name="2xx/3xx" stackId="r" fill="#15803d" isAnimationActive={false} />
            <Bar dataKey="clientErrors" name="4xx" stackId="r" fill="#2563eb" isAnimationActive={false} />
            <Bar dataKey="rateLimited" name="429" stackId="r" fill="#b45309" isAnimationActive={false} />
            <Bar dataKey="errors" name="5xx" stackId="r" fill="#b91c1c" isAnimationActive={false} />
          </BarChart>
        </div>
      </section>

      <section className="card stack" aria-labelledby="chart-latency">
        <h2 id="chart-latency">Latency p50 / p95, 24 h</h2>
        <p className="small muted">{latencySummary}</p>
        <div className="overview-chart" role="img" aria-label={latencySummary} data-testid="chart-latency">
          <LineChart responsive accessibilityLayer={false} data={points} margin={{ top: 4, right: 8, bottom: 4, left: 0 }} style={{ width: "100%", height: 240 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} stroke={AXIS} strokeOpacity={0.35} />
            <XAxis dataKey="at" tickFormatter={hhmm} minTickGap={24} tick={{ fontSize: 12 }} stroke={AXIS} />
            <YAxis width={48} tick={{ fontSize: 12 }} stroke={AXIS} unit=" ms" />
            <Tooltip labelFormatter={(v) => (typeof v === "string" ? `${hhmm(v)} UTC` : "")} />
            <Legend wrapperStyle={{ fontSize: 13 }} />
            <Line dataKey="p50Ms" name="p50" stroke="#2563eb" dot={false} connectNulls={false} isAnimationActive={false} />
            <Line dataKey="p95Ms" name="p95" stroke="#c2410c" dot={false} connectNulls={false} isAnimationActive={false} />
          </LineChart>
        </div>
      </section>

      <details className="card">
        <summary>The charts&apos; data as a table ({withTraffic.length} of {points.length} periods had requests)</summary>
        <div className="table-scroll">
          <table className="table small">
            <caption className="sr-only">Requests, outcomes and latency per {bucketMinutes} minutes, last 24 hours</caption>
            <thead>
              <tr>
                <th scope="col">From (UTC)</th>
                <th scope="col">Requests</th>
                <th scope="col">2xx/3xx</th>
                <th scope="col">4xx</th>
                <th scope="col">429</th>
                <th scope="col">5xx</th>
                <th scope="col">p50</th>
                <th scope="col">p95</th>
              </tr>
            </thead>
            <tbody>
              {withTraffic.length === 0 ? (
                <tr>
                  <td colSpan={8} className="muted">
                    No requests in the last 24 hours.
                  </td>
                </tr>
              ) : (
                withTraffic.map((p) => (
                  <tr key={p.at}>
                    <th scope="row">{hhmm(p.at)}</th>
                    <td>{count(p.requests)}</td>
                    <td>{count(p.ok)}</td>
                    <td>{count(p.clientErrors)}</td>
                    <td>{count(p.rateLimited)}</td>
                    <td>{count(p.errors)}</td>
                    <td>{latency(p.p50Ms)}</td>
                    <td>{latency(p.p95Ms)}</td>
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </div>
      </details>
    </div>
  );
}
