import http from "node:http";
import https from "node:https";
import { errors, Redis, type Requester, type UpstashRequest, type UpstashResponse } from "@upstash/redis";
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
 * - Requests go out through node:http with a keep-alive agent (restRequester), not the global
 *   fetch: inside Next's server the global fetch is Next's patched one, which builds extra
 *   Request objects, trace spans and cache lookups for every command. On cached generates against
 *   real Redis that, with fetch's own web-stream machinery, was most of the app's CPU per request.
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
  // The client the library made speaks fetch; the commands, scripts and middleware stay its own.
  (redis as unknown as { client: Requester }).client = restRequester(url, token);
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

/** A connection failure, named like the library's own (the resilient store logs `message: cause`). */
export class RedisRestRequestError extends Error {
  constructor(cause: Error) {
    super("Redis REST request failed", { cause });
    this.name = "RedisRestRequestError";
  }
}

/**
 * The Upstash REST protocol over node:http(s): POST the command (or pipeline) as JSON to the base
 * URL plus the request's path, Bearer token, keep-alive connections. Answers the parsed JSON body
 * (`{ result }` or, for a pipeline, `[{ result | error }]`); a non-2xx answer is the library's
 * UpstashError with the server's message (the script runner needs "NOSCRIPT" in it). Values come
 * as plain JSON strings: no `Upstash-Encoding: base64` to decode. An aborted signal destroys the
 * request.
 */
export function restRequester(url: string, token: string): Requester {
  const base = new URL(url.replace(/\/$/, ""));
  const transport = base.protocol === "https:" ? https : http;
  const agent = new transport.Agent({ keepAlive: true });
  const authorization = `Bearer ${token}`;
  return {
    request<TResult>(req: UpstashRequest): Promise<UpstashResponse<TResult>> {
      const body = JSON.stringify(req.body);
      const path = [base.pathname.replace(/\/$/, ""), ...(req.path ?? [])].join("/") || "/";
      const signal = req.signal;
      const abortReason = (): Error => (signal?.reason instanceof Error ? signal.reason : new Error("aborted"));
      const attempt = (firstTry: boolean): Promise<UpstashResponse<TResult>> =>
        new Promise((resolve, reject) => {
          if (signal?.aborted) return reject(abortReason());
          const outgoing = transport.request(
            {
              protocol: base.protocol,
              hostname: base.hostname,
              port: base.port,
              path,
              method: "POST",
              agent,
              headers: {
                ...req.headers,
                authorization,
                "content-type": "application/json",
                "content-length": Buffer.byteLength(body),
              },
            },
            (incoming) => {
              const chunks: Buffer[] = [];
              incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
              incoming.on("error", (error) => reject(new RedisRestRequestError(error)));
              incoming.on("end", () => {
                signal?.removeEventListener("abort", onAbort);
                const text = Buffer.concat(chunks).toString("utf8");
                let parsed: unknown;
                try {
                  parsed = JSON.parse(text);
                } catch (error) {
                  return reject(new errors.UpstashJSONParseError(text, { cause: error }));
                }
                const status = incoming.statusCode ?? 0;
                if (status < 200 || status > 299) {
                  return reject(new errors.UpstashError(`${(parsed as { error?: string }).error}, command was: ${body}`));
                }
                resolve(parsed as UpstashResponse<TResult>);
              });
            },
          );
          const onAbort = () => outgoing.destroy(abortReason());
          signal?.addEventListener("abort", onAbort, { once: true });
          outgoing.on("error", (error: NodeJS.ErrnoException) => {
            signal?.removeEventListener("abort", onAbort);
            if (signal?.aborted) return reject(abortReason());
            // A kept-alive connection the server closed just as we reused it: the request never
            // reached the server. Once more, on a new connection.
            if (firstTry && outgoing.reusedSocket && error.code === "ECONNRESET") return resolve(attempt(false));
            reject(new RedisRestRequestError(error));
          });
          outgoing.end(body);
        });
      return attempt(true);
    },
  };
}
