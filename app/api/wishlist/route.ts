import { z } from "zod";
import { LANGS } from "@/lib/ai/types";
import { json, methods, route } from "@/lib/http/route";
import { MAX_EMAIL_CHARS, MAX_WISHLIST_NOTE_CHARS } from "@/lib/util/field-limits";
import { joinWishlist } from "@/lib/wishlist";

export const dynamic = "force-dynamic";

const wishlistBody = z.strictObject({
  email: z.string().trim().toLowerCase().pipe(z.email().max(MAX_EMAIL_CHARS)),
  /** Blank is the same as absent: it never erases an earlier note. */
  note: z
    .string()
    .trim()
    .max(MAX_WISHLIST_NOTE_CHARS)
    .optional()
    .transform((note) => (note ? note : undefined)),
  lang: z.enum(LANGS).optional(),
});

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /**
   * POST /api/wishlist — join the Pro waitlist. One row per email (case-insensitive): a repeat
   * keeps the row, updating the note when a new one is given. `alreadyListed` says which.
   */
  POST: route("wishlist", { auth: "guest", sameOrigin: true, limit: "api", body: wishlistBody }, async ({ viewer, body, timing }) =>
    json({ ok: true, ...(await timing.measure("db", () => joinWishlist(viewer, body))) }),
  ),
});
