import { json, route } from "@/lib/http/route";
import { viewerWithinLimit } from "@/lib/http/viewer-request";
import { readQuota } from "@/lib/quota";

export const dynamic = "force-dynamic";

/** GET /api/quota — the caller's quota for today; never spends anything. */
export const GET = route("quota", async (ctx) => {
  const viewer = await viewerWithinLimit(ctx, "api");
  return json({ quota: await ctx.timing.measure("quota", () => readQuota(viewer, ctx.ip)) });
});
