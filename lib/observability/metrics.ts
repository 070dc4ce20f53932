import type { RequestObservation } from "./requests";

/** Prometheus series of this process (GET /api/metrics). */
export function observeRequestMetrics(_observation: RequestObservation): void {}
