import { AsyncLocalStorage } from "node:async_hooks";

/**
 * Per-request counters (round trips to Redis and Postgres), read by the debug header/log and the
 * benchmark. The stores count themselves where the round trip happens (lib/db's clients: every
 * statement, a transaction's BEGIN and COMMIT too; lib/kv's stores and the rate limiter's Redis
 * client: every HTTP request, every memory-store operation as its equivalent), so nothing else
 * should call the count functions.
 */
export interface RequestStats {
  kvRoundTrips: number;
  dbRoundTrips: number;
}

// On globalThis: Next's build puts a copy of this module into each route's and instrumentation's
// bundle, while the stores that count are process-wide singletons made by whichever bundle came
// first. With one storage per copy, a request's counters missed every round trip of a store
// made elsewhere (the production server reported kv=1 db=0 for any generation).
const globalForStats = globalThis as unknown as { __litstatusRequestStats?: AsyncLocalStorage<RequestStats> };
const storage = (globalForStats.__litstatusRequestStats ??= new AsyncLocalStorage<RequestStats>());

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

/** Runs `work` outside any request, so background work (timers started from a request) is not counted against it. */
export function outsideRequest<T>(work: () => T): T {
  return storage.exit(work);
}
