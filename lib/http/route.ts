import "server-only";
import type { Viewer } from "@/lib/auth/viewer";
import { getEnv, isDebugEnabled } from "@/lib/env";
import { AppError, toAppError } from "@/lib/errors";
import { logFor, type Logger } from "@/lib/observability/logger";
import { runWithRequestStats, type RequestStats } from "@/lib/observability/request-stats";
import { observeRequest } from "@/lib/observability/requests";
import { ServerTiming } from "@/lib/observability/server-timing";
import { clientIp } from "./client-ip";
import { REQUEST_ID_HEADER, requestIdFrom } from "./peer-address";
import { authorize, enforceBlocklist, enforceLimit, enforceSameOrigin, parseBody, parseParams, parseQuery, recordDenial, type RoutePolicy } from "./policy";
import { errorResponse, json } from "./responses";

export type { Access, BodyParser, RoutePolicy } from "./policy";
export { AppError, json };

/** What a handler gets: the request, who is asking (per the policy) and its parsed input. */
export interface RouteContext<B, Q, P, V> {
  req: Request;
  requestId: string;
  /** The client address from the trusted source only (PRODUCT §6), or null. */
  ip: string | null;
  timing: ServerTiming;
  log: Logger;
  viewer: V;
  body: B;
  query: Q;
  params: P;
}

/** The viewer a policy guarantees: none for `anyone`, a signed-in user for user/moderator/admin. */
type ViewerFor<A> = A extends "anyone" ? null : A extends "guest" ? Viewer : Extract<Viewer, { kind: "user" }>;

type NextSegment = { params: Promise<unknown> };
export type RouteHandler = ((req: Request, segment?: NextSegment) => Promise<Response>) & {
  readonly routeName: string;
  readonly policy: RoutePolicy<unknown, unknown, unknown>;
};

/** Headers every API response carries: APIs never render documents, so nothing may load. */
const API_HEADERS: Record<string, string> = {
  "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "strict-origin-when-cross-origin",
};

let httpLogger: Logger | undefined;
const httpLog = (): Logger => (httpLogger ??= logFor("http"));

/**
 * The response with our headers added: X-Request-Id, Server-Timing and the API headers unless the
 * handler set them. Handlers' responses (Response.json, `json()`, errors) have mutable headers
 * and are changed in place; one with immutable headers (a fetched response passed through) is
 * copied once.
 */
function withApiHeaders(response: Response, extra: [string, string][]): Response {
  let headers = response.headers;
  try {
    for (const [key, value] of extra) headers.set(key, value);
  } catch {
    const copy = new Headers(headers);
    for (const [key, value] of extra) copy.set(key, value);
    response = new Response(response.body, { status: response.status, statusText: response.statusText, headers: copy });
    headers = response.headers; // the new response's own (mutable) copy
  }
  for (const key in API_HEADERS) if (!headers.has(key)) headers.set(key, API_HEADERS[key]!);
  return response;
}

/** The cheap, fixed-order checks of a policy, then the handler with its parsed input. */
async function serve<B, Q, P, A extends RoutePolicy<B, Q, P>["auth"]>(
  policy: RoutePolicy<B, Q, P> & { auth: A },
  handler: (ctx: RouteContext<B, Q, P, ViewerFor<A>>) => Promise<Response>,
  base: { req: Request; requestId: string; ip: string | null; timing: ServerTiming; log: Logger },
  rawParams: unknown,
): Promise<Response> {
  const params = parseParams(rawParams, policy.params);
  await enforceBlocklist(base);
  if (policy.sameOrigin) enforceSameOrigin(base);
  const viewer = await authorize(base, policy);
  await enforceLimit(base, policy.limit, viewer);
  try {
    const query = parseQuery(base.req, policy.query);
    const body = await parseBody(base.req, policy.body, getEnv().MAX_JSON_BODY_BYTES);
    // Not a spread: `log` is a getter that makes the request's logger on first use.
    return await handler({
      req: base.req,
      requestId: base.requestId,
      ip: base.ip,
      timing: base.timing,
      get log() {
        return base.log;
      },
      viewer: viewer as ViewerFor<A>,
      body,
      query,
      params,
    });
  } catch (error) {
    if (error instanceof AppError && error.code === "invalid_input") {
      recordDenial(base, { eventType: "invalid_input", severity: "info", meta: { message: error.message } }, viewer ?? undefined);
    }
    throw error;
  }
}

/**
 * The one wrapper every API handler goes through. The policy is data: who may call, same-origin,
 * burst limit, and the schemas of body, query and path; the wrapper applies them in a fixed
 * order (blocklist → origin → viewer → rate limit → input) and adds the request id (a sane
 * inbound `X-Request-Id` is kept so traces join up), the trusted client IP, the error envelope
 * for anything thrown, `Server-Timing` and one structured access-log line.
 */
export function route<B = undefined, Q = undefined, P = Record<string, never>, A extends RoutePolicy["auth"] = RoutePolicy["auth"]>(
  name: string,
  policy: RoutePolicy<B, Q, P> & { auth: A },
  handler: (ctx: RouteContext<B, Q, P, ViewerFor<A>>) => Promise<Response>,
): RouteHandler {
  const wrapped = async (req: Request, segment?: NextSegment): Promise<Response> => {
    const timing = new ServerTiming();
    // Behind the server layer this is the id it stamped (and already set on the response).
    const requestId = requestIdFrom(req.headers.get(REQUEST_ID_HEADER));
    // The request's logger is made on first use: most requests only write the access line.
    let requestLog: Logger | undefined;
    const logOf = () => (requestLog ??= httpLog().child({ requestId, route: name }));
    let response: Response;
    let ip: string | null = null;
    let stats: RequestStats | undefined;
    try {
      const env = getEnv();
      ip = clientIp(req, { header: env.TRUST_PROXY_HEADER, hops: env.TRUST_PROXY_HOPS });
      const base = {
        req,
        requestId,
        ip,
        timing,
        get log() {
          return logOf();
        },
      };
      const rawParams = segment === undefined ? {} : await segment.params;
      const run = runWithRequestStats(() => serve(policy, handler, base, rawParams));
      stats = run.stats;
      response = await run.result;
    } catch (thrown) {
      const error = toAppError(thrown);
      if (error.status >= 500) logOf().error({ err: thrown, code: error.code }, "request failed");
      else if (httpLog().isLevelEnabled("debug")) logOf().debug({ code: error.code, message: error.message }, "request rejected");
      response = errorResponse(error, requestId);
    }
    const extra: [string, string][] = [
      ["X-Request-Id", requestId],
      ["Server-Timing", timing.header()],
    ];
    // Round trips per request: in debug mode also as a header, for the benchmark.
    // stats is set only once the configuration was read (inside the try).
    if (stats && isDebugEnabled(getEnv())) extra.push(["X-Debug-Round-Trips", `kv=${stats.kvRoundTrips}; db=${stats.dbRoundTrips}`]);
    const final = withApiHeaders(response, extra);
    const ms = timing.elapsedMs();
    observeRequest({ route: name, method: req.method, status: final.status, ms });
    const level = policy.accessLog ?? "info";
    if (httpLog().isLevelEnabled(level)) {
      httpLog()[level](
        {
          requestId,
          route: name,
          method: req.method,
          path: new URL(req.url).pathname,
          status: final.status,
          ms: Math.round(ms),
          ip,
          kvRoundTrips: stats?.kvRoundTrips,
          dbRoundTrips: stats?.dbRoundTrips,
        },
        "request",
      );
    }
    return final;
  };
  return Object.assign(wrapped, { routeName: name, policy: policy });
}

export const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];
type Exported = Partial<Record<HttpMethod, RouteHandler>>;

/**
 * A route file's exports: the handlers it defines, and for every other method an answer in the
 * envelope (405 `method_not_allowed` with `Allow`) instead of Next's empty 405. OPTIONS answers
 * 204 with `Allow`; HEAD is GET without a body where GET exists (Next drops the body).
 */
export function methods(defined: Partial<Record<Exclude<HttpMethod, "HEAD" | "OPTIONS">, RouteHandler>>): Required<Exported> {
  const allow: string[] = HTTP_METHODS.filter((m) => m === "OPTIONS" || (m === "HEAD" ? defined.GET : defined[m]));
  const name = Object.values(defined)[0]?.routeName ?? "api";
  const refuse = route(`${name}.method_not_allowed`, { auth: "anyone", sameOrigin: false, limit: null }, async () => {
    throw new AppError("method_not_allowed", undefined, { allow });
  });
  const options = route(`${name}.options`, { auth: "anyone", sameOrigin: false, limit: null }, async () =>
    new Response(null, { status: 204, headers: { Allow: allow.join(", ") } }),
  );
  return {
    GET: defined.GET ?? refuse,
    HEAD: defined.GET ?? refuse,
    POST: defined.POST ?? refuse,
    PUT: defined.PUT ?? refuse,
    PATCH: defined.PATCH ?? refuse,
    DELETE: defined.DELETE ?? refuse,
    OPTIONS: options,
  };
}
