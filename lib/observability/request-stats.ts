import { AsyncLocalStorage } from "node:async_hooks";

/** Per-request counters (round trips to Redis and Postgres), read by the debug log and the benchmark. */
export interface RequestStats {
  kvRoundTrips: number;
  dbRoundTrips: number;
}

const storage = new AsyncLocalStorage<RequestStats>();

export function runWithRequestStats<T>(work: () => Promise<T>): { stats: RequestStats; result: Promise<T> } {
  const stats: RequestStats = { kvRoundTrips: 0, dbRoundTrips: 0 };
  return { stats, result: storage.run(stats, work) };
}

export function countKvRoundTrip(n = 1): void {
  const stats = storage.getStore();
  if (stats) stats.kvRoundTrips += n;
}

export function countDbRoundTrip(n = 1): void {
  const stats = storage.getStore();
  if (stats) stats.dbRoundTrips += n;
}
