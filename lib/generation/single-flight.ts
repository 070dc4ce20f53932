import "server-only";
import { randomUUID } from "node:crypto";
import type { CaptionOutcome } from "./types";

/**
 * Per-process state: this instance's lease-holder prefix, the single flights in progress (an
 * identical miss already running on this instance answers for the others) and the gauges.
 * Flights are bounded by the generations running at once: each is removed when its leader ends
 * (or when its settlement lands, one bounded Redis round trip later).
 */
interface EngineState {
  instance: string;
  flights: Map<string, Promise<CaptionOutcome | null>>;
  queued: number;
  running: number;
}

const globalForEngine = globalThis as unknown as { __litstatusEngine?: EngineState };

export function engineState(): EngineState {
  globalForEngine.__litstatusEngine ??= { instance: randomUUID().slice(0, 8), flights: new Map(), queued: 0, running: 0 };
  return globalForEngine.__litstatusEngine;
}

/** In-flight and queued generations on this instance (metrics, admin overview). */
export function engineGauges(): { running: number; queued: number } {
  const { running, queued } = engineState();
  return { running, queued };
}

/**
 * The identical miss in flight on this instance, if any. Synchronous with `leadFlight`: the
 * check and the registration must happen without a turn of the event loop in between.
 */
export function flightOf(key: string): Promise<CaptionOutcome | null> | undefined {
  return engineState().flights.get(key);
}

export interface Flight {
  /**
   * Hands the outcome (null: nothing to share) to the followers and ends the flight, once
   * `until` (the settlement writing the outcome to the cache) has settled, if given: until then
   * an identical request on this instance is served the outcome instead of missing the cache.
   */
  land(outcome: CaptionOutcome | null, until?: Promise<unknown> | null): void;
}

const NO_FLIGHT: Flight = { land: () => {} };

/**
 * Registers this request as the leader for `key` unless a flight is already registered (after a
 * failed flight several followers go their own way at once and only the first leads; the others
 * must not remove its flight, or whoever waits on it would never be answered).
 */
export function leadFlight(key: string): Flight {
  const { flights } = engineState();
  if (flights.has(key)) return NO_FLIGHT;
  let resolve: (outcome: CaptionOutcome | null) => void = () => {};
  const flight = new Promise<CaptionOutcome | null>((r) => (resolve = r));
  flights.set(key, flight);
  return {
    land(outcome, until) {
      resolve(outcome);
      const end = () => {
        if (flights.get(key) === flight) flights.delete(key);
      };
      if (until) void until.then(end, end);
      else end();
    },
  };
}
