import { verifyAuditChain } from "@/lib/admin/audit";
import { noQuery } from "@/lib/admin/tables";
import { json, methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /** GET /api/admin/audit/verify — walks the hash chain: `{ ok, rows, firstBrokenId? }`. */
  GET: route("admin.audit_verify", { auth: "moderator", sameOrigin: false, limit: "api", query: noQuery }, async ({ timing }) =>
    json(await timing.measure("db", () => verifyAuditChain())),
  ),
});
