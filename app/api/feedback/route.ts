import { createHash } from "node:crypto";
import { z } from "zod";
import type { Viewer } from "@/lib/auth/viewer";
import { getDb, type Queryable } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { getRecordWriter } from "@/lib/events";
import { readJsonBody } from "@/lib/http/body";
import { assertSameOrigin } from "@/lib/http/origin";
import { AppError, json, route } from "@/lib/http/route";
import { viewerWithinLimit } from "@/lib/http/viewer-request";

export const dynamic = "force-dynamic";

const feedbackSchema = z.strictObject({
  generationId: z.uuid(),
  rating: z.union([z.literal(1), z.literal(-1)]),
  /** Blank is the same as absent. */
  comment: z
    .string()
    .trim()
    .max(1000)
    .optional()
    .transform((comment) => (comment ? comment : undefined)),
});

const NOT_FOUND = "No such generation.";

/**
 * Whether the viewer may rate this generation: a user their own, a guest a guest's (anyone
 * else's reads as absent: 404, never 403, so ids leak nothing).
 */
async function canRate(db: Queryable, viewer: Viewer, generationId: string): Promise<boolean> {
  const rows = await db.query(
    `select 1 from litstatus.generations where id = $1 and user_id is not distinct from $2::uuid`,
    [generationId, viewer.kind === "user" ? viewer.id : null],
  );
  return rows.length > 0;
}

/** Guests are told apart by their trusted client IP, stored only as a hash. */
function clientHash(ip: string | null): string {
  return createHash("sha256").update(`litstatus:feedback:${ip ?? "unknown"}`).digest("hex");
}

function isForeignKeyViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "23503";
}

/** POST /api/feedback — rate a generation +1 or -1 (with an optional comment); rating again replaces it. */
export const POST = route("feedback", async (ctx) => {
  assertSameOrigin(ctx.req);
  const viewer = await viewerWithinLimit(ctx, "api");
  const body = await readJsonBody(ctx.req, feedbackSchema, getEnv().MAX_JSON_BODY_BYTES);
  const db = await getDb();

  let visible = await ctx.timing.measure("db", () => canRate(db, viewer, body.generationId));
  if (!visible) {
    // Generation rows are written in batches: one answered a moment ago may still be buffered.
    await ctx.timing.measure("flush", () => getRecordWriter().flush());
    visible = await ctx.timing.measure("db", () => canRate(db, viewer, body.generationId));
  }
  if (!visible) throw new AppError("not_found", NOT_FOUND);

  const userId = viewer.kind === "user" ? viewer.id : null;
  try {
    await ctx.timing.measure("db", () =>
      db.query(
        `insert into litstatus.feedback as f (generation_id, user_id, client_hash, rating, comment)
         values ($1::uuid, $2::uuid, $3, $4::smallint, $5)
         on conflict (generation_id, (coalesce(user_id::text, client_hash))) do update
           set rating = excluded.rating, comment = excluded.comment, updated_at = now()`,
        [body.generationId, userId, userId === null ? clientHash(ctx.ip) : null, body.rating, body.comment ?? null],
      ),
    );
  } catch (error) {
    // Deleted between the check and the insert.
    if (isForeignKeyViolation(error)) throw new AppError("not_found", NOT_FOUND);
    throw error;
  }
  return json({ ok: true });
});
