import "server-only";
import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Viewer } from "@/lib/auth/viewer";
import { getDb, type Queryable } from "@/lib/db";
import { AppError } from "@/lib/errors";

export interface FeedbackInput {
  generationId: string;
  rating: 1 | -1;
  comment?: string;
}

/**
 * Guests' generation rows are written in batches (a quarter of a second behind the answer); a
 * guest who rates at once may be a moment ahead of their row. One short wait covers that
 * without flushing anything; signed-in users' rows are written before their answer.
 */
const GUEST_ROW_GRACE_MS = 400;

const NOT_FOUND = "No such generation.";

/**
 * Whether the viewer may rate this generation: a user their own, a guest a guest's (anyone
 * else's reads as absent: 404, never 403, so ids leak nothing).
 */
async function canRate(db: Queryable, viewer: Viewer, generationId: string): Promise<boolean> {
  const rows = await db.query(`select 1 from litstatus.generations where id = $1 and user_id is not distinct from $2::uuid`, [
    generationId,
    viewer.kind === "user" ? viewer.id : null,
  ]);
  return rows.length > 0;
}

/** Guests are told apart by their trusted client IP, stored only as a hash. */
function clientHash(ip: string | null): string {
  return createHash("sha256").update(`litstatus:feedback:${ip ?? "unknown"}`).digest("hex");
}

/** Rates a generation +1 or -1 (with an optional comment); rating again replaces the rating. */
export async function recordFeedback(viewer: Viewer, ip: string | null, input: FeedbackInput): Promise<void> {
  const db = await getDb();
  let visible = await canRate(db, viewer, input.generationId);
  if (!visible && viewer.kind === "guest") {
    await sleep(GUEST_ROW_GRACE_MS);
    visible = await canRate(db, viewer, input.generationId);
  }
  if (!visible) throw new AppError("not_found", NOT_FOUND);
  const userId = viewer.kind === "user" ? viewer.id : null;
  try {
    await db.query(
      `insert into litstatus.feedback as f (generation_id, user_id, client_hash, rating, comment)
       values ($1::uuid, $2::uuid, $3, $4::smallint, $5)
       on conflict (generation_id, (coalesce(user_id::text, client_hash))) do update
         set rating = excluded.rating, comment = excluded.comment, updated_at = now()`,
      [input.generationId, userId, userId === null ? clientHash(ip) : null, input.rating, input.comment ?? null],
    );
  } catch (error) {
    // Deleted between the check and the insert.
    if ((error as { code?: unknown } | null)?.code === "23503") throw new AppError("not_found", NOT_FOUND);
    throw error;
  }
}
