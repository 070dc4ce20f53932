"use client";

import { Bar, BarChart, CartesianGrid, Legend, Tooltip, XAxis, YAxis } from "recharts";

export interface FunnelChartStage {
  event: string;
  count: number;
  uniqueUsers: number;
  uniqueSessions: number;
}

/**
 * The funnel as horizontal bars, one group per stage in funnel order (events, unique sessions,
 * unique users), drawn with recharts. Assistive technology gets one summary; the exact figures
 * are in the table beside it.
 */
export function FunnelChart({ stages, summary }: { stages: FunnelChartStage[]; summary: string }) {
  const height = Math.max(220, stages.length * 44 + 60);
  return (
    <div className="insights-chart" role="img" aria-label={summary} data-testid="funnel-chart">
      <BarChart
        responsive
        accessibilityLayer={false}
        layout="vertical"
        data={stages}
        margin={{ top: 4, right: 16, bottom: 4, left: 4 }}
        style={{ width: "100%", height }}
      >
        <CartesianGrid strokeDasharray="3 3" horizontal={false} stroke="#8a8f9a" strokeOpacity={0.35} />
        <XAxis type="number" allowDecimals={false} tick={{ fontSize: 12, fill: "currentColor" }} stroke="#8a8f9a" />
        <YAxis type="category" dataKey="event" width={118} tick={{ fontSize: 12, fill: "currentColor" }} stroke="#8a8f9a" interval={0} />
        <Tooltip />
        <Legend wrapperStyle={{ fontSize: 13 }} />
        <Bar dataKey="count" name="Events" fill="#c2410c" isAnimationActive={false} />
        <Bar dataKey="uniqueSessions" name="Unique sessions" fill="#2563eb" isAnimationActive={false} />
        <Bar dataKey="uniqueUsers" name="Unique users" fill="#15803d" isAnimationActive={false} />
      </BarChart>
    </div>
  );
}
