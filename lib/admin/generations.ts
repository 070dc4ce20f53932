import "server-only";
import { z } from "zod";
import { getDb, type Queryable } from "@/lib/db";
import { audited, type AdminActor } from "./audit";

/**
 * The generations console (PRODUCT §7 "generations"): recent generations with their failure
 * reasons, and the stuck ones — `pending` for longer than any request can last — with a sweep
 * that marks them failed (`error_code = 'stuck'`). Retention runs the same sweep.
 */

/** A pending generation older than this is stuck: the request's hard deadline is far shorter. */
export const STUCK_AFTER_MINUTES = 10;
/** The error code a swept generation gets. */
export const STUCK_ERROR_CODE = "stuck";
/** How many stuck generations the console lists (the count is exact). */
const STUCK_LIST_LIMIT = 50;

export interface AdminGeneration {
  id: string;
  userId: string | null;
  status: "pending" | "complete" | "failed";
  mode: string;
  lang: string;
  platform: string | null;
  provider: string | null;
  model: string | null;
  cached: boolean;
  hasImage: boolean;
  latencyMs: number | null;
  promptTokens: number | null;
  completionTokens: number | null;
  /** Why it failed (`upstream_unavailable`, `busy`, `stuck`, …), null otherwise. */
  errorCode: string | null;
  requestId: string | null;
  createdAt: string;
  completedAt: string | null;
}

/** GET /api/admin/generations's query, shared with the console page's filter form. */
export const generationsQuery = z.strictObject({
  status: z.enum(["pending", "complete", "failed"]).optional(),
  provider: z.string().trim().min(1).max(64).optional(),
  cached: z
    .enum(["true", "false"])
    .transform((v) => v === "true")
    .optional(),
  userId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});

export interface GenerationFilters {
  status?: "pending" | "complete" | "failed";
  provider?: string;
  cached?: boolean;
  userId?: string;
  limit: number;
  offset: number;
}

const COLUMNS = `id::text as id, user_id::text as "userId", status, mode, lang, platform, provider, model, cached,
  has_image as "hasImage", latency_ms as "latencyMs", prompt_tokens as "promptTokens",
  completion_tokens as "completionTokens", error_code as "errorCode", request_id as "requestId",
  created_at as "createdAt", completed_at as "completedAt"`;

type RawGeneration = Omit<AdminGeneration, "createdAt" | "completedAt"> & { createdAt: string | Date; completedAt: string | Date | null };

const toGeneration = (raw: RawGeneration): AdminGeneration => ({
  ...raw,
  createdAt: new Date(raw.createdAt).toISOString(),
  completedAt: raw.completedAt === null ? null : new Date(raw.completedAt).toISOString(),
});

const STUCK_WHERE = `status = 'pending' and created_at < now() - make_interval(mins => ${STUCK_AFTER_MINUTES})`;

export interface GenerationsPage {
  items: AdminGeneration[];
  total: number;
  limit: number;
  offset: number;
  /** Pending for more than STUCK_AFTER_MINUTES, whatever the filters. */
  stuck: { count: number; olderThanMinutes: number; items: AdminGeneration[] };
}

/** Recent generations, newest first, filtered; and the stuck ones. */
export async function listAdminGenerations(filters: GenerationFilters): Promise<GenerationsPage> {
  const db = await getDb();
  const where = `where ($1::text is null or status = $1)
      and ($2::text is null or provider = $2)
      and ($3::boolean is null or cached = $3)
      and ($4::uuid is null or user_id = $4::uuid)`;
  const params = [filters.status ?? null, filters.provider ?? null, filters.cached ?? null, filters.userId ?? null];
  const [rows, [count], stuckRows, [stuckCount]] = await Promise.all([
    db.query<RawGeneration>(`select ${COLUMNS} from litstatus.generations ${where} order by created_at desc, id limit $5 offset $6`, [
      ...params,
      filters.limit,
      filters.offset,
    ]),
    db.query<{ total: number }>(`select count(*)::int as total from litstatus.generations ${where}`, params),
    db.query<RawGeneration>(`select ${COLUMNS} from litstatus.generations where ${STUCK_WHERE} order by created_at limit $1`, [STUCK_LIST_LIMIT]),
    db.query<{ total: number }>(`select count(*)::int as total from litstatus.generations where ${STUCK_WHERE}`),
  ]);
  return {
    items: rows.map(toGeneration),
    total: count?.total ?? 0,
    limit: filters.limit,
    offset: filters.offset,
    stuck: { count: stuckCount?.total ?? 0, olderThanMinutes: STUCK_AFTER_MINUTES, items: stuckRows.map(toGeneration) },
  };
}

/** Marks every stuck generation failed, in `db` (a transaction or the pool); returns their ids. */
export async function sweepStuckIn(db: Queryable): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    `update litstatus.generations set status = 'failed', error_code = $1, completed_at = now()
      where ${STUCK_WHERE} returning id::text as id`,
    [STUCK_ERROR_CODE],
  );
  return rows.map((r) => r.id);
}

/** The console's sweep: stuck generations marked failed, with an audit entry naming them. */
export async function sweepStuckGenerations(actor: AdminActor): Promise<{ swept: number; ids: string[] }> {
  return audited(actor, "generations.sweep", null, async (tx) => {
    const ids = await sweepStuckIn(tx);
    return { result: { swept: ids.length, ids }, after: { swept: ids.length, ids: ids.slice(0, 100) } };
  });
}
