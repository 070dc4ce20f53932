import { adminActor } from "@/lib/admin/audit";
import { sweepStuckGenerations } from "@/lib/admin/generations";
import { json, methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /** POST /api/admin/generations/sweep — marks generations pending for over 10 minutes failed (`stuck`); audited. */
  POST: route("admin.generations.sweep", { auth: "admin", sameOrigin: true, limit: "api" }, async (ctx) =>
    json(await ctx.timing.measure("db", () => sweepStuckGenerations(adminActor(ctx)))),
  ),
});
