import "server-only";
import { z } from "zod";
import packageJson from "../package.json" with { type: "json" };

/**
 * The only reader of process.env. Every variable, its bound and its embedded default lives
 * here; `.env.example` documents the same list. A bad value stops start-up with one line.
 */

const int = (def: number, min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, "expected a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .default(def);

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === "" ? undefined : v))
  .optional();

const urlWithProtocols = (protocols: string[]) =>
  optionalString.refine(
    (v) => {
      if (v === undefined) return true;
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `expected a ${protocols.join(" or ")}// URL` },
  );

const onOff = (def: "on" | "off") => z.enum(["on", "off"]).default(def);

export const envSchema = z
  .object({
    NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
    APP_VERSION: z.string().trim().min(1).default(packageJson.version),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    DEBUG: optionalString,

    DATABASE_URL: urlWithProtocols(["postgres:", "postgresql:"]),
    DATABASE_POOL_MAX: int(10, 1, 200),
    PGLITE_DATA_DIR: z.string().trim().min(1).default(".data/pglite"),

    UPSTASH_REDIS_REST_URL: urlWithProtocols(["http:", "https:"]),
    UPSTASH_REDIS_REST_TOKEN: optionalString,
    REDIS_KEY_PREFIX: z.string().max(64).regex(/^[A-Za-z0-9:_-]*$/, "letters, digits, : _ - only").default(""),
    REDIS_TIMEOUT_MS: int(1000, 50, 30_000),
    REDIS_RETRY_AFTER_MS: int(5000, 100, 600_000),

    HEALTH_CACHE_MS: int(5000, 0, 5000),
    HEALTH_CHECK_TIMEOUT_MS: int(1500, 100, 2000),
    METRICS_TOKEN: optionalString,
    /** Accepted as well while METRICS_TOKEN is being rotated (docs/OPERATIONS.md). */
    METRICS_TOKEN_PREVIOUS: optionalString,
    // Admin alerts: POSTed JSON { alert, state, value, since } on each firing/resolved transition.
    ALERT_WEBHOOK_URL: urlWithProtocols(["http:", "https:"]),

    // `none`: the TCP peer (the app is served directly). A proxy header only when the operator says so.
    TRUST_PROXY_HEADER: z.enum(["none", "x-forwarded-for", "cf-connecting-ip"]).default("none"),
    TRUST_PROXY_HOPS: int(1, 1, 10),
    MAX_JSON_BODY_BYTES: int(65_536, 1024, 1_048_576),

    OPENAI_API_KEY: optionalString,
    OPENAI_BASE_URL: urlWithProtocols(["http:", "https:"]),
    OPENAI_TEXT_MODEL: z.string().trim().min(1).default("gpt-4o-mini"),
    OPENAI_VISION_MODEL: z.string().trim().min(1).default("gpt-4o-mini"),
    OPENAI_TIMEOUT_MS: int(20_000, 100, 120_000),
    MODERATION: onOff("on"),

    OPENAI_FALLBACK_MODEL: optionalString,
    CONTENT_DENYLIST: optionalString,

    BREAKER_FAILURE_THRESHOLD: int(5, 1, 1000),
    BREAKER_COOLDOWN_MS: int(15_000, 100, 600_000),

    RATE_LIMIT_GENERATE_PER_MIN: int(10, 1, 100_000),
    RATE_LIMIT_API_PER_MIN: int(120, 1, 100_000),
    RATE_LIMIT_SIGNIN_PER_MIN: int(5, 1, 100_000),
    RATE_LIMIT_TIMEOUT_MS: int(500, 50, 10_000),

    SUPABASE_URL: urlWithProtocols(["http:", "https:"]),
    SUPABASE_ANON_KEY: optionalString,
    SUPABASE_JWT_SECRET: optionalString,
    AUTH_SECRET: optionalString,
    /** Sessions signed with it stay valid while AUTH_SECRET is being rotated; new ones use AUTH_SECRET. */
    AUTH_SECRET_PREVIOUS: optionalString,
    AUTH_SESSION_DAYS: int(7, 1, 90),
    ADMIN_EMAILS: optionalString,
    APP_URL: urlWithProtocols(["http:", "https:"]),

    GEN_MAX_INFLIGHT: int(25, 1, 10_000),
    GEN_QUEUE_TIMEOUT_MS: int(2000, 0, 60_000),
    /** Requests one instance lets wait for a slot at once; beyond it, 503 busy at once (0: no queue). */
    GEN_QUEUE_MAX: int(100, 0, 10_000),
    GEN_CACHE_TTL_SECONDS: int(3600, 1, 604_800),

    GUEST_DAILY_LIMIT: int(3, 0, 1_000_000),
    USER_DAILY_LIMIT: int(20, 0, 1_000_000),
    PRO_DAILY_LIMIT: int(500, 0, 1_000_000),

    // Retention (npm run retention, POST /api/admin/retention, POST /api/cron/retention).
    CRON_SECRET: optionalString,
    CRON_SECRET_PREVIOUS: optionalString,
    RETENTION_SECURITY_DAYS: int(90, 1, 3650),
    RETENTION_FUNNEL_DAYS: int(180, 1, 3650),
    RETENTION_GUEST_GENERATIONS_DAYS: int(30, 1, 3650),
  })
  .superRefine((env, ctx) => {
    const hasUrl = env.UPSTASH_REDIS_REST_URL !== undefined;
    const hasToken = env.UPSTASH_REDIS_REST_TOKEN !== undefined;
    if (env.AUTH_SECRET !== undefined && env.AUTH_SECRET.length < 32) {
      ctx.addIssue({ code: "custom", path: ["AUTH_SECRET"], message: "must be at least 32 characters" });
    }
    if (env.AUTH_SECRET_PREVIOUS !== undefined && env.AUTH_SECRET_PREVIOUS.length < 32) {
      ctx.addIssue({ code: "custom", path: ["AUTH_SECRET_PREVIOUS"], message: "must be at least 32 characters" });
    }
    if (env.SUPABASE_JWT_SECRET !== undefined && env.SUPABASE_JWT_SECRET.length < 32) {
      ctx.addIssue({ code: "custom", path: ["SUPABASE_JWT_SECRET"], message: "must be at least 32 characters" });
    }
    if (hasUrl !== hasToken) {
      ctx.addIssue({
        code: "custom",
        path: [hasUrl ? "UPSTASH_REDIS_REST_TOKEN" : "UPSTASH_REDIS_REST_URL"],
        message: "UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN must be set together",
      });
    }
  });

export type Env = z.infer<typeof envSchema>;

export class EnvError extends Error {
  constructor(readonly variable: string, detail: string) {
    super(`Invalid environment variable ${variable}: ${detail}`);
    this.name = "EnvError";
  }
}

/** Parses a raw environment (unknown variables ignored). Throws EnvError naming the first bad variable. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const known: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = source[key];
    if (value !== undefined) known[key] = value;
  }
  const result = envSchema.safeParse(known);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const variable = issue?.path[0] === undefined ? "environment" : String(issue.path[0]);
  throw new EnvError(variable, issue?.message ?? "invalid value");
}

const globalForEnv = globalThis as unknown as { __litstatusEnv?: Env };

/** The validated process environment, parsed once per process. */
export function getEnv(): Env {
  globalForEnv.__litstatusEnv ??= parseEnv(process.env);
  return globalForEnv.__litstatusEnv;
}

export function isDebugEnabled(env: Env): boolean {
  return (env.DEBUG ?? "").split(",").some((ns) => ns.trim() === "litstatus:*" || ns.trim() === "*");
}
