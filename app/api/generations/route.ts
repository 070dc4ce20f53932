import { z } from "zod";
import { deleteAllGenerations, listGenerations } from "@/lib/generation/history";
import { json, methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
  status: z.enum(["pending", "complete", "failed"]).optional(),
  /** Only starred ones when "true"; a query string has no booleans, so exactly "true" or "false". */
  favorite: z
    .enum(["true", "false"])
    .transform((v) => v === "true")
    .optional(),
});

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /** GET /api/generations?limit&offset&status&favorite — the signed-in user's history, newest first. */
  GET: route("generations.list", { auth: "user", sameOrigin: false, limit: "api", query: listQuery }, async ({ viewer, query, timing }) => {
    const page = await timing.measure("db", () => listGenerations(viewer.id, query));
    return json({ ...page, limit: query.limit, offset: query.offset });
  }),
  /** DELETE /api/generations — deletes all of the signed-in user's history. */
  DELETE: route("generations.delete_all", { auth: "user", sameOrigin: true, limit: "api" }, async ({ viewer, timing }) =>
    json({ deleted: await timing.measure("db", () => deleteAllGenerations(viewer.id)) }),
  ),
});
