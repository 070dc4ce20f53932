import "server-only";
import { getDb } from "@/lib/db";
import { getRecordWriter, type GenerationRecord, type SecurityEventInput } from "@/lib/events";
import { USER_USAGE_SELECT, usageOf, type UserUsage } from "@/lib/quota/user-quota";
import type { GenerateContext, Job } from "./types";

/**
 * What a generation leaves behind. A signed-in user's row is written directly (awaited) before
 * the answer, so every instance sees it at once: inserted `pending` with the charge, finished
 * here. Guests' rows and all events go through the record writer, batched off the request path.
 */

export function securityEvent(ctx: GenerateContext, event: Omit<SecurityEventInput, "ip" | "userId" | "path" | "userAgent">): void {
  getRecordWriter().securityEvent({
    ...event,
    ip: ctx.ip,
    userId: ctx.viewer.kind === "user" ? ctx.viewer.id : null,
    path: ctx.path,
    userAgent: ctx.userAgent,
  });
}

/**
 * `generate_success`, for every answer (fresh, cached or replayed): in the browser session the
 * request named (`X-Session-Id`, see docs/RUNBOOK.md "Funnel conversion") and under a signed-in
 * user's id.
 */
export function successEvent(job: Job, cached: boolean, provider: string): void {
  getRecordWriter().funnelEvent({
    event: "generate_success",
    userId: job.ctx.viewer.kind === "user" ? job.ctx.viewer.id : null,
    sessionId: job.ctx.sessionId ?? null,
    path: job.ctx.path,
    lang: job.input.lang,
    meta: { mode: job.input.mode, cached, provider },
  });
}

/** The fields a finished generation adds to its row. */
export type Finish = Pick<
  GenerationRecord,
  "caption" | "hashtags" | "detectedObject" | "provider" | "model" | "latencyMs" | "promptTokens" | "completionTokens" | "errorCode"
> & { status: "complete" | "failed"; cached: boolean };

function recordOf(job: Job, finish: Finish): GenerationRecord {
  const { viewer } = job.ctx;
  return {
    ...finish,
    id: job.id,
    userId: viewer.kind === "user" ? viewer.id : null,
    mode: job.input.mode,
    lang: job.input.lang,
    platform: job.input.platform ?? null,
    inputText: viewer.kind === "user" ? job.input.text : null,
    inputHash: job.inputHash,
    hasImage: Boolean(job.input.image),
    requestId: job.ctx.requestId,
    createdAt: new Date(job.startedAt),
    completedAt: new Date(),
  };
}

/** A guest's record (or a user's when the database already failed us): batched, best effort. */
export function enqueueGeneration(job: Job, finish: Finish): void {
  getRecordWriter().generation(recordOf(job, finish));
}

/**
 * Writes a signed-in user's finished row now (inserting it if there is none yet: a cached
 * answer, or a row its owner deleted meanwhile) and reads the user's usage in the same
 * statement, for the quota in the answer: one round trip.
 */
export async function saveUserGeneration(job: Job, userId: string, day: string, finish: Finish): Promise<UserUsage> {
  const r = recordOf(job, finish);
  const db = await getDb();
  const [row] = await db.query<{ used: number | null; credits: number | null }>(
    `with saved as (
       insert into litstatus.generations as g
         (id, user_id, status, mode, lang, platform, input_text, input_hash, has_image, caption, hashtags, detected_object,
          provider, model, cached, latency_ms, prompt_tokens, completion_tokens, error_code, request_id, created_at, completed_at)
       -- hashtags: a JSON array bound as text (a string bound as jsonb, postgres.js would encode again).
       values ($3::uuid, $1, $4, $5, $6, $7, $8, $9, $10::boolean, $11, array(select jsonb_array_elements_text(($12::text)::jsonb)), $13,
               $14, $15, $16::boolean, $17::int, $18::int, $19::int, $20, $21, $22::timestamptz, $23::timestamptz)
       on conflict (id) do update set
         status = excluded.status, caption = excluded.caption, hashtags = excluded.hashtags,
         detected_object = excluded.detected_object, provider = excluded.provider, model = excluded.model,
         cached = excluded.cached, latency_ms = excluded.latency_ms, prompt_tokens = excluded.prompt_tokens,
         completion_tokens = excluded.completion_tokens, error_code = excluded.error_code,
         request_id = excluded.request_id, completed_at = excluded.completed_at
       where g.user_id = excluded.user_id
     )
     ${USER_USAGE_SELECT}`,
    [
      userId,
      day,
      r.id,
      r.status,
      r.mode,
      r.lang,
      r.platform,
      r.inputText,
      r.inputHash,
      r.hasImage,
      r.caption ?? null,
      JSON.stringify(r.hashtags ?? []),
      r.detectedObject ?? null,
      r.provider ?? null,
      r.model ?? null,
      r.cached,
      r.latencyMs ?? null,
      r.promptTokens ?? null,
      r.completionTokens ?? null,
      r.errorCode ?? null,
      r.requestId ?? null,
      r.createdAt.toISOString(),
      (r.completedAt ?? new Date()).toISOString(),
    ],
  );
  return usageOf(row);
}
