import { generationsQuery, listAdminGenerations } from "@/lib/admin/generations";
import { json, methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /** GET /api/admin/generations?status&provider&cached&userId&limit&offset — recent generations, failure reasons, stuck ones. */
  GET: route("admin.generations", { auth: "moderator", sameOrigin: false, limit: "api", query: generationsQuery }, async ({ query, timing }) =>
    json(await timing.measure("db", () => listAdminGenerations(query))),
  ),
});
