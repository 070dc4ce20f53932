import { adminActor } from "@/lib/admin/audit";
import { flushCache, readCacheStats } from "@/lib/admin/operations";
import { json, methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /** GET /api/admin/cache — cached captions (`gen:*` keys) and the hit rate today and over 7 days. */
  GET: route("admin.cache", { auth: "moderator", sameOrigin: false, limit: "api" }, async ({ timing }) =>
    json(await timing.measure("kv", () => readCacheStats())),
  ),
  /** DELETE /api/admin/cache — flushes the caption cache (`gen:*` only: never quotas, leases or the blocklist); audited. */
  DELETE: route("admin.cache.flush", { auth: "admin", sameOrigin: true, limit: "api" }, async (ctx) => json(await flushCache(adminActor(ctx)))),
});
