import { z } from "zod";
import { getDb } from "@/lib/db";
import { deleteGeneration, getGeneration, settleRecords } from "@/lib/generation/history";
import { assertSameOrigin } from "@/lib/http/origin";
import { AppError, json, route } from "@/lib/http/route";
import { viewerWithinLimit } from "@/lib/http/viewer-request";

export const dynamic = "force-dynamic";

const idSchema = z.uuid();

function parseId(raw: string): string {
  const parsed = idSchema.safeParse(raw);
  // A malformed id cannot name anyone's generation: the same 404 as someone else's.
  if (!parsed.success) throw new AppError("not_found", "No such generation.");
  return parsed.data;
}

/** GET /api/generations/:id — owner only; anything else is 404. */
export const GET = route<{ id: string }>("generations.get", async (ctx) => {
  const viewer = await viewerWithinLimit(ctx, "api");
  if (viewer.kind !== "user") throw new AppError("unauthorized");
  const id = parseId(ctx.params.id);
  await settleRecords();
  const item = await ctx.timing.measure("db", async () => getGeneration(await getDb(), viewer.id, id));
  if (!item) throw new AppError("not_found", "No such generation.");
  return json(item);
});

/** DELETE /api/generations/:id — owner only. */
export const DELETE = route<{ id: string }>("generations.delete", async (ctx) => {
  assertSameOrigin(ctx.req);
  const viewer = await viewerWithinLimit(ctx, "api");
  if (viewer.kind !== "user") throw new AppError("unauthorized");
  const id = parseId(ctx.params.id);
  await settleRecords();
  const deleted = await ctx.timing.measure("db", async () => deleteGeneration(await getDb(), viewer.id, id));
  if (!deleted) throw new AppError("not_found", "No such generation.");
  return json({ deleted: true });
});
