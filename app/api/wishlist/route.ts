import { z } from "zod";
import { getDb } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { readJsonBody } from "@/lib/http/body";
import { assertSameOrigin } from "@/lib/http/origin";
import { json, route } from "@/lib/http/route";
import { viewerWithinLimit } from "@/lib/http/viewer-request";

export const dynamic = "force-dynamic";

const wishlistSchema = z.strictObject({
  email: z.string().trim().toLowerCase().pipe(z.email().max(254)),
  /** Blank is the same as absent: it never erases an earlier note. */
  note: z
    .string()
    .trim()
    .max(1000)
    .optional()
    .transform((note) => (note ? note : undefined)),
  lang: z.enum(["en", "zh"]).optional(),
});

/**
 * POST /api/wishlist — join the Pro waitlist. One row per email (case-insensitive): a repeat
 * keeps the row, updating the note when a new one is given. `alreadyListed` says which.
 */
export const POST = route("wishlist", async (ctx) => {
  assertSameOrigin(ctx.req);
  const viewer = await viewerWithinLimit(ctx, "api");
  const body = await readJsonBody(ctx.req, wishlistSchema, getEnv().MAX_JSON_BODY_BYTES);
  const userId = viewer.kind === "user" ? viewer.id : null;
  const [row] = await ctx.timing.measure("db", async () =>
    (await getDb()).query<{ inserted: boolean }>(
      `insert into litstatus.pro_wishlist as w (email, note, user_id, lang)
       values ($1, $2, $3::uuid, $4)
       on conflict ((lower(email))) do update
         set note = coalesce(excluded.note, w.note),
             user_id = coalesce(w.user_id, excluded.user_id),
             lang = coalesce(excluded.lang, w.lang),
             updated_at = now()
       returning (xmax = 0) as inserted`,
      [body.email, body.note ?? null, userId, body.lang ?? null],
    ),
  );
  return json({ ok: true, alreadyListed: row?.inserted === false });
});
