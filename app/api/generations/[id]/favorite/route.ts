import { z } from "zod";
import { setFavorite, type FavoriteRefusal } from "@/lib/generation/history";
import { AppError, json, methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

/** A malformed id cannot name anyone's generation: the same 404 as someone else's. */
const idParams = z.object({ id: z.uuid() });

/** The answer to a star or unstar; anyone else's id reads as in GET /api/generations/:id (404). */
function answer(id: string, favorite: boolean, refusal: FavoriteRefusal | null): Response {
  if (refusal === "not_found") throw new AppError("not_found", "No such generation.");
  if (refusal === "not_complete") throw new AppError("invalid_input", "Only finished captions can be starred.");
  return json({ id, favorite });
}

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /** POST /api/generations/:id/favorite — stars one of the owner's complete generations; idempotent. */
  POST: route("generations.favorite", { auth: "user", sameOrigin: true, limit: "api", params: idParams }, async ({ viewer, params, timing }) =>
    answer(params.id, true, await timing.measure("db", () => setFavorite(viewer.id, params.id, true))),
  ),
  /** DELETE /api/generations/:id/favorite — unstars; idempotent. */
  DELETE: route("generations.unfavorite", { auth: "user", sameOrigin: true, limit: "api", params: idParams }, async ({ viewer, params, timing }) =>
    answer(params.id, false, await timing.measure("db", () => setFavorite(viewer.id, params.id, false))),
  ),
});
