import "server-only";
import pino, { type Logger } from "pino";
import { getEnv, isDebugEnabled } from "@/lib/env";

export type { Logger };

const globalForLog = globalThis as unknown as { __litstatusLogger?: Logger };

/**
 * Structured JSON logs on stdout. `DEBUG=litstatus:*` lowers the level to debug;
 * secrets are redacted by path so a careless `log.info({ headers })` cannot leak them.
 */
export function getLogger(): Logger {
  if (globalForLog.__litstatusLogger) return globalForLog.__litstatusLogger;
  const env = getEnv();
  const level = isDebugEnabled(env) && env.LOG_LEVEL !== "silent" ? "debug" : env.LOG_LEVEL;
  globalForLog.__litstatusLogger = pino({
    level,
    base: { service: "litstatus", version: env.APP_VERSION },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: {
      paths: [
        "headers.authorization",
        "headers.cookie",
        "*.apiKey",
        "*.token",
        "*.password",
        "*.secret",
        "databaseUrl",
      ],
      censor: "[redacted]",
    },
  });
  return globalForLog.__litstatusLogger;
}

/** A child logger for one area, e.g. `logFor("kv")`; debug lines carry `ns: "litstatus:kv"`. */
export function logFor(area: string): Logger {
  return getLogger().child({ ns: `litstatus:${area}` });
}
