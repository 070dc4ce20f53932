import { z } from "zod";
import { adminActor } from "@/lib/admin/audit";
import { FORCE_OPEN_MAX_SECONDS, FORCE_OPEN_MIN_SECONDS, changeBreaker, readBreaker } from "@/lib/admin/operations";
import { json, methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

const changeBody = z.discriminatedUnion("action", [
  z.strictObject({ action: z.literal("reset") }),
  z.strictObject({ action: z.literal("force-open"), seconds: z.number().int().min(FORCE_OPEN_MIN_SECONDS).max(FORCE_OPEN_MAX_SECONDS) }),
]);

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /** GET /api/admin/breaker — state (closed/open/half-open), failures, open until. */
  GET: route("admin.breaker", { auth: "moderator", sameOrigin: false, limit: "api" }, async ({ timing }) =>
    json(await timing.measure("kv", () => readBreaker())),
  ),
  /** POST /api/admin/breaker — `{ action: "reset" }` or `{ action: "force-open", seconds }` (1..3600); audited. */
  POST: route("admin.breaker.change", { auth: "admin", sameOrigin: true, limit: "api", body: changeBody }, async (ctx) =>
    json(await changeBreaker(adminActor(ctx), ctx.body)),
  ),
});
