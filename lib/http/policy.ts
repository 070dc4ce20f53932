import "server-only";
import { z } from "zod";
import { getViewer, type Viewer } from "@/lib/auth/viewer";
import { AppError } from "@/lib/errors";
import { getRecordWriter, type SecurityEventInput } from "@/lib/events";
import type { ServerTiming } from "@/lib/observability/server-timing";
import { enforceRateLimit, type LimitName } from "@/lib/ratelimit";
import { blockedFor } from "@/lib/security/blocklist";
import { readJsonBody, zodIssues } from "./body";
import { isCrossSiteRequest } from "./origin";

/**
 * Who may call a route, from least to most privileged. `anyone` resolves no viewer at all (health
 * checks, sign-in callbacks: no token is read, no database touched); `guest` admits everyone but
 * resolves who is asking; `user`, `moderator` and `admin` need a session with at least that role.
 */
export type Access = "anyone" | "guest" | "user" | "moderator" | "admin";

/** Reads and validates a request body; throws AppError (400/413/415) on anything it will not take. */
export type BodyParser<T> = (req: Request, limits: { maxJsonBytes: number }) => Promise<T>;

export interface RoutePolicy<B = undefined, Q = undefined, P = Record<string, never>> {
  auth: Access;
  /** State-changing routes refuse a browser's cross-site request (403 forbidden, csrf_rejected). */
  sameOrigin: boolean;
  /** The burst limit (per user when signed in, per client IP otherwise); null: never limited. */
  limit: LimitName | null;
  /** A zod schema for a JSON body (strict, bounded), or a parser for other media types. */
  body?: z.ZodType<B> | BodyParser<B>;
  /** A zod schema for the query string (use z.strictObject: unknown parameters are refused). */
  query?: z.ZodType<Q>;
  /** A zod schema for the path segments; a segment that does not fit names nothing: 404. */
  params?: z.ZodType<P>;
  /** `guest` routes only: a stale or invalid session counts as a guest (beacons must not bounce). */
  invalidSession?: "reject" | "guest";
  /** Level of the one access-log line per request; health checks log at debug to stay quiet. */
  accessLog?: "info" | "debug";
}

const RANK: Record<Exclude<Access, "anyone">, number> = { guest: 0, user: 1, moderator: 2, admin: 3 };

export interface PolicyRequest {
  req: Request;
  ip: string | null;
  timing: ServerTiming;
}

/** A denial the wrapper records as a security event (written off the request path). */
export function recordDenial(at: PolicyRequest, event: Pick<SecurityEventInput, "eventType" | "severity" | "meta">, viewer?: Viewer): void {
  getRecordWriter().securityEvent({
    ...event,
    ip: at.ip,
    userId: viewer?.kind === "user" ? viewer.id : null,
    path: new URL(at.req.url).pathname,
    userAgent: at.req.headers.get("user-agent"),
  });
}

/** Blocklisted addresses get nothing, on any route. */
export async function enforceBlocklist(at: PolicyRequest): Promise<void> {
  const blocked = await blockedFor(at.ip);
  if (!blocked) return;
  recordDenial(at, { eventType: "ip_blocked", severity: "warn", meta: { entry: blocked.id } });
  throw new AppError("ip_blocked", undefined, { retryAfterSeconds: blocked.retryAfterSeconds });
}

export function enforceSameOrigin(at: PolicyRequest): void {
  if (!isCrossSiteRequest(at.req)) return;
  recordDenial(at, { eventType: "csrf_rejected", severity: "warn", meta: { origin: at.req.headers.get("origin") } });
  throw new AppError("forbidden", "Cross-site requests are not allowed.");
}

/** Resolves the viewer (unless `anyone`) and checks the role the route needs. */
export async function authorize(at: PolicyRequest, policy: RoutePolicy<unknown, unknown, unknown>): Promise<Viewer | null> {
  if (policy.auth === "anyone") return null;
  const viewer = await at.timing.measure("auth", async () => {
    if (policy.invalidSession !== "guest") return getViewer(at.req, { ip: at.ip });
    try {
      return await getViewer(at.req, { ip: at.ip, reportFailures: false });
    } catch (error) {
      if (error instanceof AppError && error.code === "unauthorized") return { kind: "guest" } as const;
      throw error;
    }
  });
  const needed = RANK[policy.auth];
  if (needed === 0) return viewer;
  if (viewer.kind !== "user") throw new AppError("unauthorized", "Sign in to continue.");
  if (RANK[viewer.role] < needed) {
    recordDenial(at, { eventType: "forbidden", severity: "warn", meta: { needs: policy.auth, role: viewer.role } }, viewer);
    throw new AppError("forbidden");
  }
  return viewer;
}

export async function enforceLimit(at: PolicyRequest, limit: LimitName | null, viewer: Viewer | null): Promise<void> {
  if (limit === null) return;
  const userId = viewer?.kind === "user" ? viewer.id : null;
  await at.timing.measure("ratelimit", () =>
    enforceRateLimit(limit, { userId, ip: at.ip }, () => recordDenial(at, { eventType: "rate_limited", severity: "warn", meta: { limit } }, viewer ?? undefined)),
  );
}

function isZod<T>(body: z.ZodType<T> | BodyParser<T>): body is z.ZodType<T> {
  return body instanceof z.ZodType;
}

/** Parses the body with the route's schema or parser; a route without one takes no body at all. */
export async function parseBody<B>(req: Request, body: RoutePolicy<B, unknown, unknown>["body"], maxJsonBytes: number): Promise<B> {
  if (body === undefined) return undefined as B;
  return isZod(body) ? readJsonBody(req, body, maxJsonBytes) : body(req, { maxJsonBytes });
}

export function parseQuery<Q>(req: Request, schema: z.ZodType<Q> | undefined): Q {
  if (schema === undefined) return undefined as Q;
  const parsed = schema.safeParse(Object.fromEntries(new URL(req.url).searchParams));
  if (!parsed.success) throw new AppError("invalid_input", "Some query parameters are not valid.", { details: zodIssues(parsed.error) });
  return parsed.data;
}

export function parseParams<P>(raw: unknown, schema: z.ZodType<P> | undefined): P {
  if (schema === undefined) return (raw ?? {}) as P;
  const parsed = schema.safeParse(raw ?? {});
  if (!parsed.success) throw new AppError("not_found", "No API route matches this path.");
  return parsed.data;
}
