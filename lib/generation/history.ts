import "server-only";
import type { CaptionVariant } from "@/lib/ai/types";
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
  /** Starred by its owner (only complete generations can be). */
  favorite: boolean;
  /** Every variant as answered; null on failed rows and rows from before the caption studio. */
  variants: CaptionVariant[] | null;
}

const COLUMNS = `id, status, mode, lang, platform, input_text as text, caption, hashtags,
  detected_object as "detectedObject", provider, model, cached, latency_ms as "latencyMs",
  error_code as "errorCode", created_at as "createdAt", favorited_at is not null as favorite, variants`;

function normalize(row: HistoryItem): HistoryItem {
  return { ...row, createdAt: new Date(row.createdAt).toISOString() };
}

/** The rows a history page lists; `favorite` false or absent means all of them. */
/** A repeat of an entry (a cache hit of an answer the history already shows, see records.ts) is not listed. */
const LIST_WHERE = `user_id = $1 and duplicate_of is null and ($2::text is null or status = $2) and (not $3::boolean or favorited_at is not null)`;

export async function listGenerations(
  userId: string,
  options: { limit: number; offset: number; status?: HistoryItem["status"]; favorite?: boolean },
): Promise<{ items: HistoryItem[]; total: number }> {
  const db = await getDb();
  const params = [userId, options.status ?? null, options.favorite ?? false];
  const [rows, [count]] = await Promise.all([
    db.query<HistoryItem>(
      `select ${COLUMNS} from litstatus.generations
       where ${LIST_WHERE}
       order by created_at desc, id desc limit $4 offset $5`,
      [...params, options.limit, options.offset],
    ),
    db.query<{ total: number }>(`select count(*)::int as total from litstatus.generations where ${LIST_WHERE}`, params),
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
  const rows = await db.query<{ listed: boolean }>(
    `delete from litstatus.generations where user_id = $1 returning duplicate_of is null as listed`,
    [userId],
  );
  // What the user saw go: the entries of their history, not the hidden repeats.
  return rows.filter((r) => r.listed).length;
}

/** Why a generation could not be starred: absent for this user (404), or not finished (400). */
export type FavoriteRefusal = "not_found" | "not_complete";

/**
 * Stars (`favorite` true) or unstars one of the user's generations; both are idempotent, and
 * starring again keeps the first star's time. Only complete generations can be starred;
 * unstarring works on any of the user's rows. One round trip when it succeeds.
 */
export async function setFavorite(userId: string, id: string, favorite: boolean): Promise<FavoriteRefusal | null> {
  const db = await getDb();
  const updated = await db.query(
    `update litstatus.generations
     set favorited_at = case when $3::boolean then coalesce(favorited_at, now()) else null end
     where id = $1 and user_id = $2 and (not $3::boolean or status = 'complete')
     returning id`,
    [id, userId, favorite],
  );
  if (updated.length > 0) return null;
  const [row] = await db.query(`select 1 from litstatus.generations where id = $1 and user_id = $2`, [id, userId]);
  return row ? "not_complete" : "not_found";
}
