import { adminActor } from "@/lib/admin/audit";
import { json, methods, route } from "@/lib/http/route";
import { runRetentionAudited } from "@/lib/retention";

export const dynamic = "force-dynamic";

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /** POST /api/admin/retention — runs retention now; rows removed per table and stuck generations swept; audited. */
  POST: route("admin.retention", { auth: "admin", sameOrigin: true, limit: "api" }, async (ctx) =>
    json(await ctx.timing.measure("db", () => runRetentionAudited(adminActor(ctx)))),
  ),
});
