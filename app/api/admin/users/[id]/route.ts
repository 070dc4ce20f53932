import { z } from "zod";
import { adminActor } from "@/lib/admin/audit";
import { deleteUser, getUserDetail, updateUser } from "@/lib/admin/users";
import { AppError, json, methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

/** A malformed id names no user: 404. */
const idParams = z.object({ id: z.uuid() });

const patchBody = z
  .strictObject({
    plan: z.enum(["free", "pro"]).optional(),
    role: z.enum(["user", "moderator", "admin"]).optional(),
    disabled: z.boolean().optional(),
  })
  .refine((b) => b.plan !== undefined || b.role !== undefined || b.disabled !== undefined, {
    message: "Give at least one of plan, role or disabled.",
  });

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /** GET /api/admin/users/:id — profile, 14 days of usage and the ledger (most recent first). */
  GET: route("admin.users.get", { auth: "moderator", sameOrigin: false, limit: "api", params: idParams }, async ({ params, timing }) => {
    const detail = await timing.measure("db", () => getUserDetail(params.id));
    if (!detail) throw new AppError("not_found", "No such user.");
    return json(detail);
  }),
  /** PATCH /api/admin/users/:id — `{ plan?, role?, disabled? }` (audited); disabling ends their sessions. */
  PATCH: route("admin.users.update", { auth: "admin", sameOrigin: true, limit: "api", params: idParams, body: patchBody }, async (ctx) =>
    json({ profile: await ctx.timing.measure("db", () => updateUser(adminActor(ctx), ctx.params.id, ctx.body)) }),
  ),
  /** DELETE /api/admin/users/:id — deletes the user and their data (the account-deletion path; audited). */
  DELETE: route("admin.users.delete", { auth: "admin", sameOrigin: true, limit: "api", params: idParams }, async (ctx) => {
    const result = await ctx.timing.measure("db", () => deleteUser(adminActor(ctx), ctx.params.id));
    ctx.log.info({ target: ctx.params.id, generations: result.generations }, "account deleted by an admin");
    return json({ deleted: true });
  }),
});
