import { z } from "zod";
import { searchUsers } from "@/lib/admin/users";
import { json, methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

const searchQuery = z.strictObject({
  q: z.string().max(320).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /** GET /api/admin/users?q&limit&offset — users whose email contains q, newest first. */
  GET: route("admin.users.search", { auth: "moderator", sameOrigin: false, limit: "api", query: searchQuery }, async ({ query, timing }) => {
    const page = await timing.measure("db", () => searchUsers(query));
    return json({ ...page, limit: query.limit, offset: query.offset });
  }),
});
