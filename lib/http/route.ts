import "server-only";
import { randomUUID } from "node:crypto";
import { getEnv, isDebugEnabled } from "@/lib/env";
import { logFor, type Logger } from "@/lib/observability/logger";
import { runWithRequestStats, type RequestStats } from "@/lib/observability/request-stats";
import { clientIpFrom } from "./client-ip";
import { AppError, errorEnvelope, toAppError } from "./errors";
import { ServerTiming } from "./server-timing";

export interface RouteContext<P> {
  req: Request;
  requestId: string;
  /** The client address from the trusted source only (TRUST_PROXY_HEADER), or null. */
  ip: string | null;
  timing: ServerTiming;
  log: Logger;
  params: P;
}

export interface RouteOptions {
  /** Level of the one access-log line per request; health checks log at debug to stay quiet. */
  accessLog?: "info" | "debug";
}

type Handler<P> = (ctx: RouteContext<P>) => Promise<Response>;
type NextRouteHandler<P> = (req: Request, segment: { params: Promise<P> }) => Promise<Response>;

const INBOUND_REQUEST_ID = /^[A-Za-z0-9._:-]{8,80}$/;

/** Headers every API response carries: APIs never render documents, so nothing may load. */
const API_HEADERS: Record<string, string> = {
  "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "strict-origin-when-cross-origin",
};

export function json(body: unknown, init: ResponseInit = {}): Response {
  const headers = new Headers(init.headers);
  if (!headers.has("content-type")) headers.set("content-type", "application/json; charset=utf-8");
  if (!headers.has("cache-control")) headers.set("cache-control", "no-store");
  return new Response(JSON.stringify(body), { ...init, headers });
}

function errorResponse(error: AppError, requestId: string): Response {
  const headers = new Headers();
  if (error.retryAfterSeconds !== undefined) {
    headers.set("Retry-After", String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
  }
  return json(errorEnvelope(error, requestId), { status: error.status, headers });
}

/**
 * The one wrapper every route handler goes through: request id (a sane inbound
 * `X-Request-Id` is kept so traces join up), trusted client IP, the error envelope for
 * anything thrown, `Server-Timing`, and one structured access-log line.
 */
export function route<P = Record<string, never>>(
  name: string,
  handler: Handler<P>,
  options: RouteOptions = {},
): NextRouteHandler<P> {
  return async (req, segment) => {
    const timing = new ServerTiming();
    const inbound = req.headers.get("x-request-id");
    const requestId = inbound && INBOUND_REQUEST_ID.test(inbound) ? inbound : randomUUID();
    const log = logFor("http").child({ requestId, route: name });
    let response: Response;
    let ip: string | null = null;
    let stats: RequestStats | undefined;
    try {
      const env = getEnv();
      ip = clientIpFrom(req.headers, { header: env.TRUST_PROXY_HEADER, hops: env.TRUST_PROXY_HOPS });
      // Next always passes the segment; direct callers (tests, other handlers) may not.
      const params = segment === undefined ? ({} as P) : await segment.params;
      const clientIp = ip;
      const run = runWithRequestStats(() => handler({ req, requestId, ip: clientIp, timing, log, params }));
      stats = run.stats;
      response = await run.result;
    } catch (thrown) {
      const error = toAppError(thrown);
      if (error.status >= 500) {
        log.error({ err: thrown, code: error.code }, "request failed");
      } else {
        log.debug({ code: error.code, message: error.message }, "request rejected");
      }
      response = errorResponse(error, requestId);
    }
    // Responses built by handlers may have immutable headers (e.g. Response.json); copy once.
    const headers = new Headers(response.headers);
    headers.set("X-Request-Id", requestId);
    headers.set("Server-Timing", timing.header());
    for (const [key, value] of Object.entries(API_HEADERS)) if (!headers.has(key)) headers.set(key, value);
    // Round trips per request: in debug mode also as a header, for the benchmark.
    if (stats && isDebugEnabled(getEnv())) {
      headers.set("X-Debug-Round-Trips", `kv=${stats.kvRoundTrips}; db=${stats.dbRoundTrips}`);
    }
    const final = new Response(response.body, { status: response.status, statusText: response.statusText, headers });
    log[options.accessLog ?? "info"](
      {
        method: req.method,
        path: new URL(req.url).pathname,
        status: final.status,
        ms: Math.round(timing.elapsedMs()),
        ip,
        kvRoundTrips: stats?.kvRoundTrips,
        dbRoundTrips: stats?.dbRoundTrips,
      },
      "request",
    );
    return final;
  };
}

export { AppError };
