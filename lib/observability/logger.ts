import "server-only";
import pino, { type DestinationStream, type Logger } from "pino";
import { getEnv, isDebugEnabled, type Env } from "@/lib/env";

export type { Logger };

const globalForLog = globalThis as unknown as { __litstatusLogger?: Logger };

const REDACTED = "[redacted]";

/** Fields redacted by name wherever a careless `log.info({ headers })` or `{ config }` puts them. */
const REDACT_PATHS = [
  "authorization",
  "cookie",
  "headers.authorization",
  "headers.cookie",
  "*.headers.authorization",
  "*.headers.cookie",
  "apiKey",
  "*.apiKey",
  "token",
  "*.token",
  "password",
  "*.password",
  "secret",
  "*.secret",
  "databaseUrl",
  "*.databaseUrl",
];

/** Shorter values are not searched for: they would match ordinary text. */
const MIN_SECRET_CHARS = 8;

/**
 * The configured secret values, each as it may appear in a log line: itself, JSON-escaped, and
 * (the database password) percent-encoded as in DATABASE_URL. The public Supabase anon key is not
 * a secret.
 */
export function secretValues(env: Env): string[] {
  const values = [
    env.AUTH_SECRET,
    env.AUTH_SECRET_PREVIOUS,
    env.SUPABASE_JWT_SECRET,
    env.OPENAI_API_KEY,
    env.UPSTASH_REDIS_REST_TOKEN,
    env.METRICS_TOKEN,
    env.METRICS_TOKEN_PREVIOUS,
    env.CRON_SECRET,
    env.CRON_SECRET_PREVIOUS,
  ];
  if (env.DATABASE_URL) {
    const encoded = new URL(env.DATABASE_URL).password;
    values.push(encoded);
    try {
      values.push(decodeURIComponent(encoded));
    } catch {
      // not valid percent-encoding: the encoded form is what can appear
    }
  }
  const all = new Set<string>();
  for (const value of values) {
    if (typeof value !== "string" || value.length < MIN_SECRET_CHARS) continue;
    all.add(value);
    all.add(JSON.stringify(value).slice(1, -1));
  }
  // Longest first, so a secret that contains another is replaced whole.
  return [...all].sort((a, b) => b.length - a.length);
}

/** Replaces every configured secret value in a serialized line, whatever field or message it came in. */
export function secretScrubber(env: Env): (line: string) => string {
  const secrets = secretValues(env);
  if (secrets.length === 0) return (line) => line;
  const pattern = new RegExp(secrets.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "g");
  return (line) => line.replace(pattern, REDACTED);
}

/**
 * Structured JSON logs (stdout unless a destination is given). `DEBUG=litstatus:*` lowers the
 * level to debug. Secrets are kept out twice over: fields redacted by name, and every configured
 * secret value replaced in the finished line, so an error message that quotes a key or a
 * connection string cannot leak it either.
 */
export function createLogger(env: Env, destination?: DestinationStream): Logger {
  const level = isDebugEnabled(env) && env.LOG_LEVEL !== "silent" ? "debug" : env.LOG_LEVEL;
  const options: pino.LoggerOptions = {
    level,
    base: { service: "litstatus", version: env.APP_VERSION },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    hooks: { streamWrite: secretScrubber(env) },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** The process's logger. */
export function getLogger(): Logger {
  globalForLog.__litstatusLogger ??= createLogger(getEnv());
  return globalForLog.__litstatusLogger;
}

/** A child logger for one area, e.g. `logFor("kv")`; debug lines carry `ns: "litstatus:kv"`. */
export function logFor(area: string): Logger {
  return getLogger().child({ ns: `litstatus:${area}` });
}
