import { getEnv } from "@/lib/env";
import { json, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

/** Liveness: touches no dependency, never rate limited. */
export const GET = route(
  "health",
  async () => json({ status: "ok", timestamp: new Date().toISOString(), version: getEnv().APP_VERSION }),
  { accessLog: "debug" },
);
