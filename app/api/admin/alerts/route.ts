import { z } from "zod";
import { readAlerts } from "@/lib/admin/alerts";
import { json, methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /** GET /api/admin/alerts — each runbook rule: id, state (ok/pending/firing), since, value, threshold. */
  GET: route("admin.alerts", { auth: "moderator", sameOrigin: false, limit: "api", query: z.strictObject({}) }, async () => {
    return json({ alerts: await readAlerts() });
  }),
});
