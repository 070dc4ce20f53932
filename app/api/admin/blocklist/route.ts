import { z } from "zod";
import { adminActor } from "@/lib/admin/audit";
import { addBlock, blockBody, listBlocklist, removeBlock } from "@/lib/admin/security";
import { json, methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

const removeQuery = z.strictObject({ id: z.uuid() });

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /** GET /api/admin/blocklist — the entries in force, newest first. */
  GET: route("admin.blocklist.list", { auth: "moderator", sameOrigin: false, limit: "api" }, async ({ timing }) =>
    json({ items: await timing.measure("kv", () => listBlocklist()) }),
  ),
  /** POST /api/admin/blocklist — `{ ip | cidr, reason, ttlSeconds }`; 201 with the entry (audited). */
  POST: route("admin.blocklist.add", { auth: "admin", sameOrigin: true, limit: "api", body: blockBody }, async (ctx) =>
    json(await addBlock(adminActor(ctx), ctx.body), { status: 201 }),
  ),
  /** DELETE /api/admin/blocklist?id=<uuid> — removes the entry (audited); 404 for an unknown id. */
  DELETE: route("admin.blocklist.remove", { auth: "admin", sameOrigin: true, limit: "api", query: removeQuery }, async (ctx) =>
    json({ removed: await removeBlock(adminActor(ctx), ctx.query.id) }),
  ),
});
