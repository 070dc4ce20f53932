import { getEnv } from "@/lib/env";
import { json, methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

/** Liveness: touches no dependency, never rate limited. */
export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  GET: route("health", { auth: "anyone", sameOrigin: false, limit: null, accessLog: "debug" }, async () =>
    json({ status: "ok", timestamp: new Date().toISOString(), version: getEnv().APP_VERSION }),
  ),
});
