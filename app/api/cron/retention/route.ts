import { AppError, json, methods, route } from "@/lib/http/route";
import { checkCronAuthorization, runRetention } from "@/lib/retention";

export const dynamic = "force-dynamic";

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /**
   * POST /api/cron/retention with `Authorization: Bearer $CRON_SECRET` (compared in constant
   * time) — runs retention. 404 when CRON_SECRET is unset, 401 on a missing or wrong token.
   */
  POST: route("cron.retention", { auth: "anyone", sameOrigin: false, limit: "api" }, async ({ req, timing }) => {
    const auth = checkCronAuthorization(req.headers.get("authorization"));
    if (auth === "disabled") throw new AppError("not_found", "No API route matches this path.");
    if (auth === "denied") throw new AppError("unauthorized", "A valid cron token is required.");
    return json(await timing.measure("db", () => runRetention()));
  }),
});
