import { z } from "zod";
import { adminActor } from "@/lib/admin/audit";
import { grantCredits } from "@/lib/admin/users";
import { AppError, json, methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

const idParams = z.object({ id: z.uuid() });

const grantBody = z.strictObject({
  /** Credits to add; negative takes credits back (never below zero). */
  amount: z
    .number()
    .int()
    .min(-10_000)
    .max(10_000)
    .refine((n) => n !== 0, { message: "The amount cannot be 0." }),
  reason: z.string().trim().min(1).max(500),
});

const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{8,128}$/;

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /**
   * POST /api/admin/users/:id/credits — `{ amount, reason }` with an `Idempotency-Key` header: a
   * ledger entry (audited). The same key and body answer the same again; another body is 400.
   */
  POST: route("admin.users.credits", { auth: "admin", sameOrigin: true, limit: "api", params: idParams, body: grantBody }, async (ctx) => {
    const key = ctx.req.headers.get("idempotency-key")?.trim();
    if (!key || !IDEMPOTENCY_KEY.test(key)) {
      throw new AppError("invalid_input", "Send an Idempotency-Key header (8-128 characters: letters, digits, . _ : -).");
    }
    const { replay, ...result } = await ctx.timing.measure("db", () => grantCredits(adminActor(ctx), ctx.params.id, ctx.body, key));
    // A replay is the same answer (status and body); only this header tells them apart.
    return json(result, { status: 201, headers: { "Idempotency-Replayed": String(replay) } });
  }),
});
