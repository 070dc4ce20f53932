import { listInflight } from "@/lib/admin/operations";
import { json, methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /** GET /api/admin/inflight — the in-flight leases held now across instances (holder, since, expires). */
  GET: route("admin.inflight", { auth: "moderator", sameOrigin: false, limit: "api" }, async ({ timing }) =>
    json(await timing.measure("kv", () => listInflight())),
  ),
});
