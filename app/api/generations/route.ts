import { z } from "zod";
import { getDb } from "@/lib/db";
import { deleteAllGenerations, listGenerations, settleRecords } from "@/lib/generation/history";
import { zodIssues } from "@/lib/http/body";
import { assertSameOrigin } from "@/lib/http/origin";
import { AppError, json, route } from "@/lib/http/route";
import { viewerWithinLimit } from "@/lib/http/viewer-request";

export const dynamic = "force-dynamic";

const querySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
  status: z.enum(["pending", "complete", "failed"]).optional(),
});

/** GET /api/generations?limit&offset&status — the signed-in user's history, newest first. */
export const GET = route("generations.list", async (ctx) => {
  const viewer = await viewerWithinLimit(ctx, "api");
  if (viewer.kind !== "user") throw new AppError("unauthorized", "Sign in to see your history.");
  const parsed = querySchema.safeParse(Object.fromEntries(new URL(ctx.req.url).searchParams));
  if (!parsed.success) throw new AppError("invalid_input", "Some query parameters are not valid.", { details: zodIssues(parsed.error) });
  await settleRecords();
  const page = await ctx.timing.measure("db", async () => listGenerations(await getDb(), viewer.id, parsed.data));
  return json({ ...page, limit: parsed.data.limit, offset: parsed.data.offset });
});

/** DELETE /api/generations — deletes all of the signed-in user's history. */
export const DELETE = route("generations.delete_all", async (ctx) => {
  assertSameOrigin(ctx.req);
  const viewer = await viewerWithinLimit(ctx, "api");
  if (viewer.kind !== "user") throw new AppError("unauthorized");
  await settleRecords();
  const deleted = await ctx.timing.measure("db", async () => deleteAllGenerations(await getDb(), viewer.id));
  return json({ deleted });
});
