import { Redis } from "@upstash/redis";
import { countKvRoundTrip } from "@/lib/observability/request-stats";

export interface UpstashClientOptions {
  url: string;
  token: string;
  /** Bound on each HTTP request, response body included. */
  timeoutMs: number;
  /** false (the store): values are opaque strings. The rate limiter needs the default (true). */
  automaticDeserialization?: boolean;
}

/** The error a request that ran out of time rejects with. */
export class RedisTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`Redis request timeout after ${timeoutMs} ms`);
    this.name = "TimeoutError";
  }
}

/**
 * The one way we make an @upstash/redis client (the store and the rate limiter):
 *
 * - One request per command: no auto-pipelining (it would tie unrelated callers' latency and
 *   failures together) and no retry (the resilient store falls back to memory instead;
 *   `retry: false` would still try twice in 1.39).
 * - Every HTTP request counts as a kv round trip of the current request (request-stats),
 *   including both halves of an EVALSHA → NOSCRIPT → EVAL retry.
 * - Every HTTP request gets its own timer, CLEARED when the request settles. The client's own
 *   `signal: () => AbortSignal.timeout(ms)` would keep each request's fetch state (request,
 *   response, listeners) reachable until the timer fires, long after the answer: at a few
 *   hundred requests a second that promoted every request's garbage to V8's old space, which
 *   grew by hundreds of MiB before a full collection (issue 8 §9). And a plain AbortSignal
 *   cannot be used either: 1.39 turns its abort into a successful reply whose result is the
 *   string "Aborted", so an aborted request is turned back into a rejection here.
 */
export function createUpstashClient({ url, token, timeoutMs, automaticDeserialization }: UpstashClientOptions): Redis {
  const redis = new Redis({
    url,
    token,
    automaticDeserialization,
    enableAutoPipelining: false,
    retry: { retries: 0 },
    enableTelemetry: false,
  });
  redis.use(async (request, next) => {
    countKvRoundTrip();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new RedisTimeoutError(timeoutMs)), timeoutMs);
    try {
      const response = await next({ ...request, signal: controller.signal });
      if (controller.signal.aborted) throw new RedisTimeoutError(timeoutMs);
      return response;
    } catch (error) {
      throw controller.signal.aborted ? new RedisTimeoutError(timeoutMs) : error;
    } finally {
      clearTimeout(timer);
    }
  });
  return redis;
}
