import { observeRequestMetrics } from "./metrics";
import { observeRequestSeries } from "./series";

/** One finished API request, as the route wrapper saw it. */
export interface RequestObservation {
  route: string;
  method: string;
  status: number;
  ms: number;
}

/**
 * Called by the route wrapper once per request, after the answer is built: the Prometheus
 * series (metrics.ts, this process) and the shared per-minute series every instance writes
 * (series.ts, read by the console's overview and alerts). Neither may throw or wait.
 */
export function observeRequest(observation: RequestObservation): void {
  observeRequestMetrics(observation);
  observeRequestSeries(observation);
}
