import "server-only";
import { getDb } from "@/lib/db";
import { EnvError, getEnv } from "@/lib/env";
import { logFor } from "@/lib/observability/logger";

export async function startServer(): Promise<void> {
  let env;
  try {
    env = getEnv();
  } catch (error) {
    if (error instanceof EnvError) {
      // One plain line on stderr, before any logger exists: the operator reads it first.
      console.error(`litstatus: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
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
    log.error({ err: error }, "database not available at start; readiness will report it");
  }
}
