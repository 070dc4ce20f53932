import "server-only";
import { getDb } from "@/lib/db";

/*
 * A signed-in user's generation rows are written directly, before the answer (see records.ts):
 * history reads the table as it is, on any instance, and never flushes a buffer.
 */

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
  userId: string,
  options: { limit: number; offset: number; status?: HistoryItem["status"] },
): Promise<{ items: HistoryItem[]; total: number }> {
  const db = await getDb();
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
export async function getGeneration(userId: string, id: string): Promise<HistoryItem | null> {
  const db = await getDb();
  const [row] = await db.query<HistoryItem>(`select ${COLUMNS} from litstatus.generations where id = $1 and user_id = $2`, [id, userId]);
  return row ? normalize(row) : null;
}

export async function deleteGeneration(userId: string, id: string): Promise<boolean> {
  const db = await getDb();
  const rows = await db.query(`delete from litstatus.generations where id = $1 and user_id = $2 returning id`, [id, userId]);
  return rows.length > 0;
}

export async function deleteAllGenerations(userId: string): Promise<number> {
  const db = await getDb();
  const rows = await db.query(`delete from litstatus.generations where user_id = $1 returning id`, [userId]);
  return rows.length;
}
