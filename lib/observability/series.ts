import type { RequestObservation } from "./requests";

/** The shared per-minute request series (console overview and alerts). */
export function observeRequestSeries(_observation: RequestObservation): void {}
