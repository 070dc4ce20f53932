import { getEnv } from "@/lib/env";
import { generateCaption } from "@/lib/generation/engine";
import { parseIdempotencyKey, withIdempotency } from "@/lib/generation/idempotency";
import { parseGenerateRequest } from "@/lib/generation/input";
import { assertSameOrigin } from "@/lib/http/origin";
import { json, route } from "@/lib/http/route";
import { viewerWithinLimit } from "@/lib/http/viewer-request";

export const dynamic = "force-dynamic";

/** POST /api/generate — see PRODUCT.md §3 for the contract and lib/generation/engine.ts for the pipeline. */
export const POST = route("generate", async (ctx) => {
  const env = getEnv();
  assertSameOrigin(ctx.req);
  const viewer = await viewerWithinLimit(ctx, "generate");
  const input = await parseGenerateRequest(ctx.req, env.MAX_JSON_BODY_BYTES);
  const idempotencyKey = parseIdempotencyKey(ctx.req.headers.get("idempotency-key"));
  const scope = viewer.kind === "user" ? `user:${viewer.id}` : `ip:${ctx.ip ?? "unknown"}`;
  const result = await withIdempotency(scope, idempotencyKey, env.OPENAI_TIMEOUT_MS + env.GEN_QUEUE_TIMEOUT_MS, () =>
    generateCaption(input, {
      viewer,
      ip: ctx.ip,
      requestId: ctx.requestId,
      idempotencyKey,
      timing: ctx.timing,
      log: ctx.log,
      path: "/api/generate",
      userAgent: ctx.req.headers.get("user-agent"),
    }),
  );
  return json(result);
});
