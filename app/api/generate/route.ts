import { generate } from "@/lib/generation/engine";
import { parseIdempotencyKey } from "@/lib/generation/idempotency";
import { json, methods, route } from "@/lib/http/route";
import { generateBody } from "./schema";

export const dynamic = "force-dynamic";

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
    });
    return json(result);
  }),
});
