import "server-only";
import { getDb } from "@/lib/db";
import { INFLIGHT_KEY } from "@/lib/generation/keys";
import { engineGauges } from "@/lib/generation/single-flight";
import { getReadiness, redact, type Readiness } from "@/lib/health/readiness";
import { getKv } from "@/lib/kv";
import {
  percentileMs,
  readGauges,
  readSeries,
  setSeriesGaugeSource,
  sumPoints,
  type MinutePoint,
} from "@/lib/observability/series";
import { readBreaker, type BreakerView } from "./operations";

/**
 * The console overview (GET /api/admin/overview, the /admin page). Every number comes from
 * what all instances share: readiness, the breaker and the in-flight lease set in Redis, the
 * per-minute request series (lib/observability/series), the gauges each instance publishes
 * there (queued generations: the engine only knows its own queue), and SQL on
 * litstatus.generations and litstatus.security_events.
 */

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
/** Chart resolution over the last 24 h. */
export const CHART_BUCKET_MINUTES = 15;

/**
 * Makes this instance publish its queued/running generations into the shared series (once per
 * process; idempotent). Called by the overview and the alert evaluator, and at start-up.
 */
export function publishEngineGauges(): void {
  setSeriesGaugeSource(engineGauges);
}

export interface WindowStats {
  requests: number;
  errors: number;
  /** errors / requests (0..1); null without requests. */
  errorRate: number | null;
  rateLimited: number;
  /** Upper bound of the bucket holding the quantile (lib/observability/series percentileMs). */
  p50Ms: number | null;
  p95Ms: number | null;
}

export function windowStats(points: readonly MinutePoint[]): WindowStats {
  const sum = sumPoints(points);
  return {
    requests: sum.requests,
    errors: sum.errors,
    errorRate: sum.requests > 0 ? sum.errors / sum.requests : null,
    rateLimited: sum.rateLimited,
    p50Ms: percentileMs(sum.buckets, 0.5),
    p95Ms: percentileMs(sum.buckets, 0.95),
  };
}

export interface ChartPoint {
  /** Start of the bucket, ISO-8601. */
  at: string;
  requests: number;
  ok: number;
  clientErrors: number;
  rateLimited: number;
  errors: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

export interface Overview {
  generatedAt: string;
  health: Pick<Readiness, "status" | "checks">;
  store: { kind: "upstash" | "memory"; mode: "primary" | "fallback" };
  /** As GET /api/admin/breaker answers it (`half-open`: the cooldown is over, the next generation probes). */
  breaker: BreakerView;
  inflight: number;
  queued: number;
  /** Instances that published their queue in the last 15 s. */
  instancesReporting: number;
  /** Over the last 24 h of generation rows: cached answers / completed ones. */
  cache: { hitRate: number | null; hits: number; completed: number };
  last5m: WindowStats;
  last24h: WindowStats;
  /** Since 00:00 UTC. */
  today: { generations: number; completed: number; failed: number; quotaDenials: number; rateLimitHits: number };
  series: { bucketMinutes: number; points: ChartPoint[] };
}

interface CountsRow {
  generations: number;
  completed: number;
  failed: number;
  quota_denials: number;
  rate_limit_hits: number;
  completed_24h: number;
  cached_24h: number;
}

const COUNTS_SQL = `
select
  (select count(*)::int from litstatus.generations where created_at >= $1) as generations,
  (select count(*)::int from litstatus.generations where created_at >= $1 and status = 'complete') as completed,
  (select count(*)::int from litstatus.generations where created_at >= $1 and status = 'failed') as failed,
  (select count(*)::int from litstatus.security_events where created_at >= $1 and event_type = 'quota_exceeded') as quota_denials,
  (select count(*)::int from litstatus.security_events where created_at >= $1 and event_type = 'rate_limited') as rate_limit_hits,
  (select count(*)::int from litstatus.generations where created_at >= $2 and status = 'complete') as completed_24h,
  (select count(*)::int from litstatus.generations where created_at >= $2 and status = 'complete' and cached) as cached_24h`;

export function chartPoints(points: readonly MinutePoint[], bucketMinutes = CHART_BUCKET_MINUTES): ChartPoint[] {
  const out: ChartPoint[] = [];
  for (let i = 0; i < points.length; i += bucketMinutes) {
    const slice = points.slice(i, i + bucketMinutes);
    const s = sumPoints(slice);
    out.push({
      at: new Date(s.at).toISOString(),
      requests: s.requests,
      ok: s.requests - s.errors - s.clientErrors - s.rateLimited,
      clientErrors: s.clientErrors,
      rateLimited: s.rateLimited,
      errors: s.errors,
      p50Ms: percentileMs(s.buckets, 0.5),
      p95Ms: percentileMs(s.buckets, 0.95),
    });
  }
  return out;
}

/** The overview; `details` adds readiness error details (admins only). */
export async function readOverview(options: { details?: boolean; now?: number } = {}): Promise<Overview> {
  publishEngineGauges();
  const now = options.now ?? Date.now();
  const kv = getKv();
  const midnight = new Date(now);
  midnight.setUTCHours(0, 0, 0, 0);
  // 24 h aligned to chart buckets: 96 buckets of 15 minutes, the last one holding "now".
  const bucketMs = CHART_BUCKET_MINUTES * MINUTE_MS;
  const chartEnd = Math.floor(now / bucketMs) * bucketMs + bucketMs - 1;
  const chartStart = chartEnd + 1 - DAY_MS;

  const [readiness, breaker, leases, gauges, minutes, counts] = await Promise.all([
    getReadiness(now),
    readBreaker(now),
    kv.leaseList(INFLIGHT_KEY),
    readGauges(kv, now),
    readSeries(kv, chartStart, chartEnd),
    getDb()
      .then((db) => db.query<CountsRow>(COUNTS_SQL, [midnight.toISOString(), new Date(now - DAY_MS).toISOString()]))
      .then((rows) => rows[0] ?? null)
      .catch(() => null),
  ]);
  const nowMinute = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  const last5 = minutes.filter((p) => p.at > nowMinute - 5 * MINUTE_MS && p.at <= nowMinute);
  const last24 = minutes.filter((p) => p.at > nowMinute - DAY_MS && p.at <= nowMinute);
  const shown = options.details ? readiness : redact(readiness);
  const status = kv.status();

  return {
    generatedAt: new Date(now).toISOString(),
    health: { status: shown.status, checks: shown.checks },
    store: { kind: kv.kind, mode: status.mode },
    breaker,
    inflight: leases.length,
    queued: gauges.queued,
    instancesReporting: gauges.instances,
    cache: {
      hitRate: counts && counts.completed_24h > 0 ? counts.cached_24h / counts.completed_24h : null,
      hits: counts?.cached_24h ?? 0,
      completed: counts?.completed_24h ?? 0,
    },
    last5m: windowStats(last5),
    last24h: windowStats(last24),
    today: {
      generations: counts?.generations ?? 0,
      completed: counts?.completed ?? 0,
      failed: counts?.failed ?? 0,
      quotaDenials: counts?.quota_denials ?? 0,
      rateLimitHits: counts?.rate_limit_hits ?? 0,
    },
    series: { bucketMinutes: CHART_BUCKET_MINUTES, points: chartPoints(minutes) },
  };
}
