import { SESSION_ID_PATTERN } from "@/lib/analytics/client-events";
import { generate } from "@/lib/generation/engine";
import { parseIdempotencyKey } from "@/lib/generation/idempotency";
import { streamGeneration } from "@/lib/generation/stream";
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

/** Asked for server-sent events (PRODUCT §3a streaming). */
const wantsStream = (accept: string | null): boolean => accept !== null && /(^|,)\s*text\/event-stream\b/i.test(accept);

/**
 * POST /api/generate — see docs/API.md for the contract and lib/generation/engine.ts for the
 * pipeline; with `Accept: text/event-stream` the same generation streams (lib/generation/stream.ts).
 */
export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  POST: route("generate", { auth: "guest", sameOrigin: true, limit: "generate", body: generateBody }, async (ctx) => {
    const { viewer, body: input } = ctx;
    const idempotencyKey = parseIdempotencyKey(ctx.req.headers.get("idempotency-key"));
    const gctx = {
      viewer,
      ip: ctx.ip,
      requestId: ctx.requestId,
      idempotencyKey,
      timing: ctx.timing,
      // A getter: the request's logger is made only if the generation logs.
      get log() {
        return ctx.log;
      },
      path: "/api/generate",
      userAgent: ctx.req.headers.get("user-agent"),
      sessionId: funnelSessionId(ctx.req.headers.get("x-session-id")),
    };
    if (wantsStream(ctx.req.headers.get("accept"))) {
      return streamGeneration((stream) => generate(input, { ...gctx, stream }), { requestId: ctx.requestId, log: ctx.log });
    }
    return json(await generate(input, gctx));
  }),
});
