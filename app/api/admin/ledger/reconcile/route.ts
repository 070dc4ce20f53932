import { reconcileLedger } from "@/lib/admin/users";
import { json, methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /** GET /api/admin/ledger/reconcile — every stored counter that differs from the ledger's recount. */
  GET: route("admin.ledger.reconcile", { auth: "moderator", sameOrigin: false, limit: "api" }, async ({ timing }) =>
    json(await timing.measure("db", () => reconcileLedger())),
  ),
});
