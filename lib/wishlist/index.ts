import "server-only";
import type { Viewer } from "@/lib/auth/viewer";
import { getDb } from "@/lib/db";

export interface WishlistInput {
  email: string;
  note?: string;
  lang?: "en" | "zh";
}

/**
 * Joins the Pro waitlist. One row per email (case-insensitive): a repeat keeps the row, updating
 * the note when a new one is given (a blank note never erases an earlier one).
 */
export async function joinWishlist(viewer: Viewer, input: WishlistInput): Promise<{ alreadyListed: boolean }> {
  const [row] = await (await getDb()).query<{ inserted: boolean }>(
    `insert into litstatus.pro_wishlist as w (email, note, user_id, lang)
     values ($1, $2, $3::uuid, $4)
     on conflict ((lower(email))) do update
       set note = coalesce(excluded.note, w.note),
           user_id = coalesce(w.user_id, excluded.user_id),
           lang = coalesce(excluded.lang, w.lang),
           updated_at = now()
     returning (xmax = 0) as inserted`,
    [input.email, input.note ?? null, viewer.kind === "user" ? viewer.id : null, input.lang ?? null],
  );
  return { alreadyListed: row?.inserted === false };
}
