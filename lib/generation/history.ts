import "server-only";
import type { Queryable } from "@/lib/db";
import { getRecordWriter } from "@/lib/events";

/**
 * Generation records are written in batches off the request path; before showing a user their
 * history, write what this instance still holds so the caption they just made is there.
 */
export async function settleRecords(): Promise<void> {
  await getRecordWriter().flush();
}

/** A generation as its owner sees it in history. */
export interface HistoryItem {
  id: string;
  status: "pending" | "complete" | "failed";
  mode: string;
  lang: string;
  platform: string | null;
  text: string | null;
  caption: string | null;
  hashtags: string[];
  detectedObject: string | null;
  provider: string | null;
  model: string | null;
  cached: boolean;
  latencyMs: number | null;
  errorCode: string | null;
  createdAt: string;
}

const COLUMNS = `id, status, mode, lang, platform, input_text as text, caption, hashtags,
  detected_object as "detectedObject", provider, model, cached, latency_ms as "latencyMs",
  error_code as "errorCode", created_at as "createdAt"`;

function normalize(row: HistoryItem): HistoryItem {
  return { ...row, createdAt: new Date(row.createdAt).toISOString() };
}

export async function listGenerations(
  db: Queryable,
  userId: string,
  options: { limit: number; offset: number; status?: HistoryItem["status"] },
): Promise<{ items: HistoryItem[]; total: number }> {
  const params = [userId, options.status ?? null];
  const [rows, [count]] = await Promise.all([
    db.query<HistoryItem>(
      `select ${COLUMNS} from litstatus.generations
       where user_id = $1 and ($2::text is null or status = $2)
       order by created_at desc, id desc limit $3 offset $4`,
      [...params, options.limit, options.offset],
    ),
    db.query<{ total: number }>(
      `select count(*)::int as total from litstatus.generations where user_id = $1 and ($2::text is null or status = $2)`,
      params,
    ),
  ]);
  return { items: rows.map(normalize), total: count?.total ?? 0 };
}

/** Owner only: another user's id reads as absent (404), never as forbidden. */
export async function getGeneration(db: Queryable, userId: string, id: string): Promise<HistoryItem | null> {
  const [row] = await db.query<HistoryItem>(`select ${COLUMNS} from litstatus.generations where id = $1 and user_id = $2`, [id, userId]);
  return row ? normalize(row) : null;
}

export async function deleteGeneration(db: Queryable, userId: string, id: string): Promise<boolean> {
  const rows = await db.query(`delete from litstatus.generations where id = $1 and user_id = $2 returning id`, [id, userId]);
  return rows.length > 0;
}

export async function deleteAllGenerations(db: Queryable, userId: string): Promise<number> {
  const rows = await db.query(`delete from litstatus.generations where user_id = $1 returning id`, [userId]);
  return rows.length;
}
