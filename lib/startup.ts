import "server-only";
import { startAlertEvaluator } from "@/lib/admin/alerts";
import { authMode } from "@/lib/auth/mode";
import { AuthConfigError, getLocalSigningSecret } from "@/lib/auth/secret";
import { installAuthSecurityHook } from "@/lib/auth/security-hook";
import { getDb } from "@/lib/db";
import { DataDirError, EXIT_DATA_DIR_UNUSABLE } from "@/lib/db/data-dir";
import { EnvError, getEnv } from "@/lib/env";
import { logFor } from "@/lib/observability/logger";
import { refreshBlocklist } from "@/lib/security/blocklist";

export async function startServer(): Promise<void> {
  let env;
  try {
    env = getEnv();
    // Local sign-in needs its signing secret; in production a missing one is a config error.
    if (authMode(env) === "local") getLocalSigningSecret(env);
  } catch (error) {
    if (error instanceof EnvError || error instanceof AuthConfigError) {
      // One plain line on stderr, before any logger exists: the operator reads it first.
      console.error(`litstatus: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  installAuthSecurityHook();
  // Every instance evaluates the console's alert rules every 15 s (transitions and the webhook
  // happen with nobody watching) and publishes its queued generations; and reads the blocklist
  // now, so the first request does not wait for it.
  startAlertEvaluator();
  void refreshBlocklist();
  const log = logFor("startup");
  log.info(
    {
      version: env.APP_VERSION,
      database: env.DATABASE_URL ? "postgres" : "pglite",
      redis: env.UPSTASH_REDIS_REST_URL ? "upstash" : "memory",
      ai: env.OPENAI_API_KEY ? "openai" : "offline",
    },
    "starting",
  );
  try {
    // Embedded: open and migrate now. Server: postgres.js connects lazily, so an unreachable
    // database never stops liveness; readiness reports it.
    await getDb();
  } catch (error) {
    if (error instanceof DataDirError) {
      // Nothing works without the embedded database and a restart cannot fix its directory:
      // one line for the operator, and a status the supervisors do not restart on.
      console.error(`litstatus: ${error.message}`);
      process.exit(EXIT_DATA_DIR_UNUSABLE);
    }
    log.error({ err: error }, "database not available at start; readiness will report it");
  }
}
