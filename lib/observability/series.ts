import { getKv } from "@/lib/kv";
import type { KvStore } from "@/lib/kv/types";
import { outsideRequest } from "./request-stats";
import type { RequestObservation } from "./requests";

/**
 * The shared per-minute request series: every instance writes it, any instance reads it (the
 * console's overview and alerts). The hot path pays no round trip: requests are added up in
 * process, per UTC minute, and flushed every SERIES_FLUSH_MS by a timer started outside any
 * request (unref'd), one HINCRBY script per minute with data. One hash per minute,
 * `series:m:<epoch minute>`, expiring SERIES_TTL_SECONDS after its last write:
 *   req       requests finished in that minute (every API route)
 *   err       of which answered 5xx
 *   c4        of which answered 4xx other than 429
 *   rl        of which answered 429 (rate_limited or quota_exceeded)
 *   ms        their summed latency, whole milliseconds
 *   b0..b10   latency histogram: b<i> counts requests with ms <= LATENCY_BOUNDS_MS[i]
 *             (not cumulative); b10 is +Inf
 * Gauges (queued/running generations) are published per instance into the hash
 * `series:gauges` (field = instance, value = JSON with the sample time) on each flush; readers
 * sum the samples fresher than GAUGE_FRESH_MS.
 */

export const LATENCY_BOUNDS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2000, 5000] as const;
/** Buckets: one per bound, then +Inf. */
export const BUCKETS = LATENCY_BOUNDS_MS.length + 1;
export const SERIES_TTL_SECONDS = 25 * 3600;
export const SERIES_FLUSH_MS = 5000;
/** Bound on minutes held in process awaiting a flush (Redis unreachable for long): the oldest are dropped. */
export const MAX_PENDING_MINUTES = 30;
export const GAUGES_KEY = "series:gauges";
/** A gauge sample older than this belongs to a stopped instance and is ignored. */
export const GAUGE_FRESH_MS = 3 * SERIES_FLUSH_MS;
const MINUTE_MS = 60_000;

export const minuteKey = (minute: number): string => `series:m:${minute}`;

/** One minute of requests, all instances summed (or one writer's pending share). */
export interface MinutePoint {
  /** Start of the minute, epoch ms. */
  at: number;
  requests: number;
  errors: number;
  clientErrors: number;
  rateLimited: number;
  latencySumMs: number;
  /** BUCKETS counts; bucket i holds requests with LATENCY_BOUNDS_MS[i-1] < ms <= LATENCY_BOUNDS_MS[i]. */
  buckets: number[];
}

export interface Gauges {
  queued: number;
  running: number;
  /** Instances with a fresh sample. */
  instances: number;
}

export type GaugeSource = () => { queued: number; running: number };

export function emptyPoint(at: number): MinutePoint {
  return { at, requests: 0, errors: 0, clientErrors: 0, rateLimited: 0, latencySumMs: 0, buckets: new Array<number>(BUCKETS).fill(0) };
}

/** The bucket a latency falls in (upper bounds are inclusive). */
export function bucketOf(ms: number): number {
  const i = LATENCY_BOUNDS_MS.findIndex((bound) => ms <= bound);
  return i === -1 ? BUCKETS - 1 : i;
}

/**
 * The p-quantile (0 < p <= 1) of a histogram, as the upper bound of the bucket holding the
 * ceil(p·n)-th fastest request: an upper estimate, never below the true value. A quantile in
 * the +Inf bucket reads as the largest bound (5000: "at least 5 s"). null without requests.
 */
export function percentileMs(buckets: readonly number[], p: number): number | null {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i] ?? 0;
    if (seen >= rank) return LATENCY_BOUNDS_MS[Math.min(i, LATENCY_BOUNDS_MS.length - 1)]!;
  }
  return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1]!;
}

/** Adds points up (the `at` of the first, or `at` when given). */
export function sumPoints(points: readonly MinutePoint[], at = points[0]?.at ?? 0): MinutePoint {
  const sum = emptyPoint(at);
  for (const p of points) {
    sum.requests += p.requests;
    sum.errors += p.errors;
    sum.clientErrors += p.clientErrors;
    sum.rateLimited += p.rateLimited;
    sum.latencySumMs += p.latencySumMs;
    for (let i = 0; i < BUCKETS; i++) sum.buckets[i]! += p.buckets[i] ?? 0;
  }
  return sum;
}

function addObservation(point: MinutePoint, o: RequestObservation): void {
  point.requests += 1;
  if (o.status >= 500) point.errors += 1;
  else if (o.status === 429) point.rateLimited += 1;
  else if (o.status >= 400) point.clientErrors += 1;
  const ms = Math.max(0, Math.round(o.ms));
  point.latencySumMs += ms;
  point.buckets[bucketOf(ms)]! += 1;
}

function toFields(p: MinutePoint): Record<string, number> {
  const fields: Record<string, number> = { req: p.requests, err: p.errors, c4: p.clientErrors, rl: p.rateLimited, ms: p.latencySumMs };
  p.buckets.forEach((n, i) => {
    if (n > 0) fields[`b${i}`] = n;
  });
  return fields;
}

function fromFields(at: number, f: Record<string, string>): MinutePoint {
  const n = (name: string): number => {
    const v = Number(f[name] ?? 0);
    return Number.isFinite(v) ? v : 0;
  };
  const p = emptyPoint(at);
  p.requests = n("req");
  p.errors = n("err");
  p.clientErrors = n("c4");
  p.rateLimited = n("rl");
  p.latencySumMs = n("ms");
  for (let i = 0; i < BUCKETS; i++) p.buckets[i] = n(`b${i}`);
  return p;
}

export interface SeriesWriterOptions {
  kv: () => KvStore;
  now?: () => number;
  /** This instance's name in the gauges hash. */
  instance?: string;
  maxPendingMinutes?: number;
}

export interface SeriesWriter {
  observe(observation: RequestObservation): void;
  /** Writes the pending minutes (and this instance's gauges) to the store; never throws. */
  flush(): Promise<void>;
  setGaugeSource(source: GaugeSource | null): void;
  /** Minutes held in process, and minutes dropped because the buffer was full. */
  stats(): { pendingMinutes: number; droppedMinutes: number };
}

export function createSeriesWriter(options: SeriesWriterOptions): SeriesWriter {
  const now = options.now ?? Date.now;
  const instance = options.instance ?? Math.random().toString(36).slice(2, 10);
  const maxPending = options.maxPendingMinutes ?? MAX_PENDING_MINUTES;
  let pending = new Map<number, MinutePoint>();
  let dropped = 0;
  let gaugeSource: GaugeSource | null = null;
  let flushing: Promise<void> | null = null;

  function pointFor(minute: number): MinutePoint {
    let point = pending.get(minute);
    if (!point) {
      point = emptyPoint(minute * MINUTE_MS);
      pending.set(minute, point);
      while (pending.size > maxPending) {
        const oldest = Math.min(...pending.keys());
        pending.delete(oldest);
        dropped += 1;
      }
    }
    return point;
  }

  function merge(minute: number, point: MinutePoint): void {
    const into = pointFor(minute);
    Object.assign(into, sumPoints([into, point], into.at));
  }

  async function flushOnce(): Promise<void> {
    const batch = pending;
    pending = new Map();
    const kv = options.kv();
    for (const [minute, point] of [...batch].sort((a, b) => a[0] - b[0])) {
      try {
        await kv.hashIncrement(minuteKey(minute), toFields(point), SERIES_TTL_SECONDS);
      } catch {
        merge(minute, point); // kept for the next flush (bounded)
      }
    }
    if (gaugeSource) {
      try {
        const { queued, running } = gaugeSource();
        await kv.hashSet(GAUGES_KEY, instance, JSON.stringify({ queued, running, at: now() }), SERIES_TTL_SECONDS);
      } catch {
        // the next flush publishes a fresh sample
      }
    }
  }

  return {
    observe(o) {
      addObservation(pointFor(Math.floor(now() / MINUTE_MS)), o);
    },
    flush() {
      // One flush at a time; a caller arriving meanwhile waits for it and then flushes again.
      const run = (flushing ?? Promise.resolve()).then(flushOnce);
      flushing = run;
      void run.finally(() => {
        if (flushing === run) flushing = null;
      });
      return run;
    },
    setGaugeSource(source) {
      gaugeSource = source;
    },
    stats: () => ({ pendingMinutes: pending.size, droppedMinutes: dropped }),
  };
}

/** The minutes [fromMs, toMs] (each minute containing them), all instances, oldest first; one round trip. */
export async function readSeries(kv: KvStore, fromMs: number, toMs: number): Promise<MinutePoint[]> {
  const first = Math.floor(fromMs / MINUTE_MS);
  const last = Math.floor(toMs / MINUTE_MS);
  const minutes: number[] = [];
  for (let m = first; m <= last; m++) minutes.push(m);
  const hashes = await kv.hashReadMany(minutes.map(minuteKey));
  return minutes.map((m, i) => fromFields(m * MINUTE_MS, hashes[i] ?? {}));
}

/** Queued and running generations now, summed over the instances with a fresh sample. */
export async function readGauges(kv: KvStore, nowMs: number): Promise<Gauges> {
  const [samples = {}] = await kv.hashReadMany([GAUGES_KEY]);
  const total: Gauges = { queued: 0, running: 0, instances: 0 };
  for (const raw of Object.values(samples)) {
    try {
      const s = JSON.parse(raw) as { queued?: unknown; running?: unknown; at?: unknown };
      if (typeof s.at !== "number" || nowMs - s.at > GAUGE_FRESH_MS) continue;
      total.queued += typeof s.queued === "number" ? s.queued : 0;
      total.running += typeof s.running === "number" ? s.running : 0;
      total.instances += 1;
    } catch {
      // an unreadable sample counts as none
    }
  }
  return total;
}

interface SeriesGlobal {
  writer?: SeriesWriter;
  timer?: ReturnType<typeof setInterval>;
}

const globalForSeries = globalThis as unknown as { __litstatusSeries?: SeriesGlobal };

/** This process's writer, flushed every SERIES_FLUSH_MS by a timer started outside any request. */
export function seriesWriter(): SeriesWriter {
  const s = (globalForSeries.__litstatusSeries ??= {});
  s.writer ??= createSeriesWriter({ kv: getKv });
  s.timer ??= outsideRequest(() => {
    const timer = setInterval(() => void s.writer?.flush(), SERIES_FLUSH_MS);
    timer.unref();
    return timer;
  });
  return s.writer;
}

/** The shared per-minute request series (console overview and alerts). Never throws or waits. */
export function observeRequestSeries(observation: RequestObservation): void {
  try {
    seriesWriter().observe(observation);
  } catch {
    // observability must never fail a request
  }
}

/** Publishes this instance's queued/running generations with every flush (the engine registers it). */
export function setSeriesGaugeSource(source: GaugeSource | null): void {
  seriesWriter().setGaugeSource(source);
}
