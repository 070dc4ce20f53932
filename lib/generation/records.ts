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
  "caption" | "hashtags" | "variants" | "detectedObject" | "provider" | "model" | "latencyMs" | "promptTokens" | "completionTokens" | "errorCode"
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

const COLUMNS = `id, user_id, status, mode, lang, platform, input_text, input_hash, has_image, caption, hashtags, variants,
  detected_object, provider, model, cached, latency_ms, prompt_tokens, completion_tokens, error_code, request_id, created_at, completed_at`;

/** The row's values as parameters $3…$24 ($1 the user, $2 the day); hashtags and variants are JSON bound as text. */
const VALUES = `$3::uuid, $1, $4, $5, $6, $7, $8, $9, $10::boolean, $11, array(select jsonb_array_elements_text(($12::text)::jsonb)),
  ($24::text)::jsonb, $13, $14, $15, $16::boolean, $17::int, $18::int, $19::int, $20, $21, $22::timestamptz, $23::timestamptz`;

const UPSERT_SET = `on conflict (id) do update set
  status = excluded.status, caption = excluded.caption, hashtags = excluded.hashtags, variants = excluded.variants,
  detected_object = excluded.detected_object, provider = excluded.provider, model = excluded.model,
  cached = excluded.cached, latency_ms = excluded.latency_ms, prompt_tokens = excluded.prompt_tokens,
  completion_tokens = excluded.completion_tokens, error_code = excluded.error_code,
  request_id = excluded.request_id, completed_at = excluded.completed_at
where g.user_id = excluded.user_id`;

function rowParams(userId: string, day: string, r: GenerationRecord) {
  return [
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
    // A string bound as jsonb would be encoded again by postgres.js: bound as text and cast.
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
    r.variants && r.variants.length > 0 ? JSON.stringify(r.variants) : null,
  ];
}

/**
 * Writes a signed-in user's finished row now (inserting it if there is none yet: a row its
 * owner deleted meanwhile) and reads the user's usage in the same statement, for the quota in
 * the answer: one round trip.
 */
export async function saveUserGeneration(job: Job, userId: string, day: string, finish: Finish): Promise<UserUsage> {
  const db = await getDb();
  const [row] = await db.query<{ used: number | null; credits: number | null }>(
    `with saved as (insert into litstatus.generations as g (${COLUMNS}) values (${VALUES}) ${UPSERT_SET})
     ${USER_USAGE_SELECT}`,
    rowParams(userId, day, recordOf(job, finish)),
  );
  return usageOf(row);
}

/**
 * A cached answer for a signed-in user. When their history already shows this very answer (same
 * input, mode, language, platform and variants), the row is still written (one per request) but
 * marked `duplicate_of` that entry, which history hides, and the entry's id answers: asking twice
 * leaves one entry, and a star or a rating lands on the one the user sees. Returns that id with
 * the usage, in one round trip.
 */
export async function saveUserHit(job: Job, userId: string, day: string, finish: Finish): Promise<UserUsage & { id: string }> {
  const db = await getDb();
  const [row] = await db.query<{ id: string; used: number | null; credits: number | null }>(
    `with existing as (
       select id from litstatus.generations
       where user_id = $1 and input_hash = $9 and mode = $5 and lang = $6 and platform is not distinct from $7
         and status = 'complete' and duplicate_of is null and variants = ($24::text)::jsonb and id <> $3::uuid
       order by created_at desc limit 1
     ), saved as (
       insert into litstatus.generations as g (${COLUMNS}, duplicate_of) values (${VALUES}, (select id from existing))
       ${UPSERT_SET}
     )
     ${USER_USAGE_SELECT.replace(/^select /, "select coalesce((select id from existing), $3::uuid)::text as id, ")}`,
    rowParams(userId, day, recordOf(job, finish)),
  );
  return { id: row?.id ?? job.id, ...usageOf(row) };
}
