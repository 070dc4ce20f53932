import { SESSION_ID_PATTERN } from "@/lib/analytics/client-events";
import { generate } from "@/lib/generation/engine";
import { parseIdempotencyKey } from "@/lib/generation/idempotency";
import { json, methods, route } from "@/lib/http/route";
import { generateBody } from "./schema";

export const dynamic = "force-dynamic";

/**
 * The browser's funnel session (`X-Session-Id`, lib/ui/track.ts), for the `generate_success`
 * event. Analytics never fail a generation: anything absent or not 8–128 of `[A-Za-z0-9_-]` is
 * ignored, silently.
 */
function funnelSessionId(value: string | null): string | null {
  return value !== null && SESSION_ID_PATTERN.test(value) ? value : null;
}

/** POST /api/generate — see docs/API.md for the contract and lib/generation/engine.ts for the pipeline. */
export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  POST: route("generate", { auth: "guest", sameOrigin: true, limit: "generate", body: generateBody }, async (ctx) => {
    const { viewer, body: input } = ctx;
    const idempotencyKey = parseIdempotencyKey(ctx.req.headers.get("idempotency-key"));
    const result = await generate(input, {
      viewer,
      ip: ctx.ip,
      requestId: ctx.requestId,
      idempotencyKey,
      timing: ctx.timing,
      log: ctx.log,
      path: "/api/generate",
      userAgent: ctx.req.headers.get("user-agent"),
      sessionId: funnelSessionId(ctx.req.headers.get("x-session-id")),
    });
    return json(result);
  }),
});
