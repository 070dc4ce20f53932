import { json, methods, route } from "@/lib/http/route";
import { readQuota } from "@/lib/quota";

export const dynamic = "force-dynamic";

/** GET /api/quota — the caller's quota for today; never spends anything. */
export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  GET: route("quota", { auth: "guest", sameOrigin: false, limit: "api" }, async ({ viewer, ip, timing }) =>
    json({ quota: await timing.measure("quota", () => readQuota(viewer, ip)) }),
  ),
});
