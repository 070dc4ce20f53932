import "server-only";
import { getViewer, type Viewer } from "@/lib/auth/viewer";
import { AppError } from "./errors";
import { getRecordWriter } from "@/lib/events";
import { enforceRateLimit, type LimitName } from "@/lib/ratelimit";
import type { RouteContext } from "./route";

/**
 * The common start of a public API route: who is asking, then their burst limit (per user when
 * signed in, per IP otherwise). A limited request is recorded as a `rate_limited` security event.
 */
export async function viewerWithinLimit(
  ctx: RouteContext<unknown>,
  limit: LimitName,
  options: { guestOnBadToken?: boolean } = {},
): Promise<Viewer> {
  const viewer = await ctx.timing.measure("auth", async () => {
    if (!options.guestOnBadToken) return getViewer(ctx.req, { ip: ctx.ip });
    // Fire-and-forget endpoints (beacons, CSP reports) must never bounce: a stale session
    // counts as a guest there, silently.
    try {
      return await getViewer(ctx.req, { ip: ctx.ip, reportFailures: false });
    } catch (error) {
      if (error instanceof AppError && error.code === "unauthorized") return { kind: "guest" } as const;
      throw error;
    }
  });
  const userId = viewer.kind === "user" ? viewer.id : null;
  await ctx.timing.measure("ratelimit", () =>
    enforceRateLimit(limit, { userId, ip: ctx.ip }, () =>
      getRecordWriter().securityEvent({
        eventType: "rate_limited",
        severity: "warn",
        ip: ctx.ip,
        userId,
        path: new URL(ctx.req.url).pathname,
        userAgent: ctx.req.headers.get("user-agent"),
        meta: { limit },
      }),
    ),
  );
  return viewer;
}
