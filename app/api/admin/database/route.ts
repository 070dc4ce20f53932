import { databaseReport } from "@/lib/admin/database";
import { json, methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /** GET /api/admin/database — connections, queries over 5 minutes, table sizes, index usage (each may be unavailable). */
  GET: route("admin.database", { auth: "moderator", sameOrigin: false, limit: "api" }, async ({ timing }) =>
    json(await timing.measure("db", () => databaseReport())),
  ),
});
