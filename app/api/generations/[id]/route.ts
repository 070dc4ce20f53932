import { z } from "zod";
import { deleteGeneration, getGeneration } from "@/lib/generation/history";
import { AppError, json, methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

/** A malformed id cannot name anyone's generation: the same 404 as someone else's. */
const idParams = z.object({ id: z.uuid() });

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /** GET /api/generations/:id — owner only; anything else is 404. */
  GET: route("generations.get", { auth: "user", sameOrigin: false, limit: "api", params: idParams }, async ({ viewer, params, timing }) => {
    const item = await timing.measure("db", () => getGeneration(viewer.id, params.id));
    if (!item) throw new AppError("not_found", "No such generation.");
    return json(item);
  }),
  /** DELETE /api/generations/:id — owner only. */
  DELETE: route("generations.delete", { auth: "user", sameOrigin: true, limit: "api", params: idParams }, async ({ viewer, params, timing }) => {
    if (!(await timing.measure("db", () => deleteGeneration(viewer.id, params.id)))) throw new AppError("not_found", "No such generation.");
    return json({ deleted: true });
  }),
});
