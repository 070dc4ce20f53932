import { describe, expect, it } from "vitest";
import packageJson from "../package.json" with { type: "json" };
import { EnvError, envSchema, parseEnv } from "./env";

function envError(source: Record<string, string | undefined>): EnvError {
  try {
    parseEnv(source);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvError);
    return error as EnvError;
  }
  throw new Error(`expected parseEnv to reject ${JSON.stringify(source)}`);
}

function expectOneLine(error: EnvError) {
  expect(error.message).not.toMatch(/\n/);
  expect(error.message).toMatch(new RegExp(`^Invalid environment variable ${error.variable}: .+`));
}

describe("parseEnv", () => {
  it("parses an empty environment to the embedded defaults", () => {
    const env = parseEnv({});
    expect(env).toMatchObject({
      NODE_ENV: "development",
      APP_VERSION: packageJson.version,
      LOG_LEVEL: "info",
      DATABASE_POOL_MAX: 10,
      PGLITE_DATA_DIR: ".data/pglite",
      REDIS_KEY_PREFIX: "",
      REDIS_TIMEOUT_MS: 1000,
      REDIS_RETRY_AFTER_MS: 5000,
      HEALTH_CACHE_MS: 5000,
      HEALTH_CHECK_TIMEOUT_MS: 1500,
      TRUST_PROXY_HEADER: "none",
      TRUST_PROXY_HOPS: 1,
      MAX_JSON_BODY_BYTES: 65_536,
      OPENAI_TEXT_MODEL: "gpt-4o-mini",
      OPENAI_VISION_MODEL: "gpt-4o-mini",
      OPENAI_TIMEOUT_MS: 20_000,
      MODERATION: "on",
      GEN_MAX_INFLIGHT: 25,
      GEN_QUEUE_TIMEOUT_MS: 2000,
      GEN_QUEUE_MAX: 100,
      GEN_CACHE_TTL_SECONDS: 3600,
      GUEST_DAILY_LIMIT: 3,
      USER_DAILY_LIMIT: 20,
      PRO_DAILY_LIMIT: 500,
    });
    for (const optional of [
      "DEBUG",
      "DATABASE_URL",
      "UPSTASH_REDIS_REST_URL",
      "UPSTASH_REDIS_REST_TOKEN",
      "METRICS_TOKEN",
      "OPENAI_API_KEY",
      "OPENAI_BASE_URL",
    ] as const) {
      expect(env[optional], optional).toBeUndefined();
    }
  });

  it("parses whole numbers, trimming whitespace", () => {
    const env = parseEnv({ GEN_MAX_INFLIGHT: " 40 ", DATABASE_POOL_MAX: "1", HEALTH_CACHE_MS: "0" });
    expect(env.GEN_MAX_INFLIGHT).toBe(40);
    expect(env.DATABASE_POOL_MAX).toBe(1);
    expect(env.HEALTH_CACHE_MS).toBe(0);
  });

  it("rejects a non-numeric number with one line naming the variable", () => {
    const error = envError({ GEN_MAX_INFLIGHT: "abc" });
    expect(error.variable).toBe("GEN_MAX_INFLIGHT");
    expect(error.name).toBe("EnvError");
    expect(error.message).toContain("GEN_MAX_INFLIGHT");
    expectOneLine(error);
  });

  it.each([
    ["GEN_MAX_INFLIGHT", "0"],
    ["GEN_MAX_INFLIGHT", "10001"],
    ["GEN_MAX_INFLIGHT", "-5"],
    ["DATABASE_POOL_MAX", "201"],
    ["HEALTH_CACHE_MS", "5001"],
    ["HEALTH_CHECK_TIMEOUT_MS", "99"],
    ["REDIS_TIMEOUT_MS", "30001"],
    ["TRUST_PROXY_HOPS", "0"],
    ["MAX_JSON_BODY_BYTES", "1023"],
    ["GUEST_DAILY_LIMIT", "-1"],
  ])("rejects out-of-range %s=%s", (variable, value) => {
    const error = envError({ [variable]: value });
    expect(error.variable).toBe(variable);
    expectOneLine(error);
  });

  it.each(["1.5", "1e3", "0x10", "12abc"])("rejects the non-integer GEN_MAX_INFLIGHT=%s", (value) => {
    expect(envError({ GEN_MAX_INFLIGHT: value }).variable).toBe("GEN_MAX_INFLIGHT");
  });

  it("accepts the bounds themselves", () => {
    const env = parseEnv({ GEN_MAX_INFLIGHT: "10000", HEALTH_CACHE_MS: "5000", HEALTH_CHECK_TIMEOUT_MS: "100" });
    expect(env.GEN_MAX_INFLIGHT).toBe(10_000);
    expect(env.HEALTH_CACHE_MS).toBe(5000);
    expect(env.HEALTH_CHECK_TIMEOUT_MS).toBe(100);
  });

  it.each(["mysql://x", "not a url", "http://db.example.com/app", "postgres//missing-colon"])(
    "rejects the malformed DATABASE_URL %j",
    (value) => {
      const error = envError({ DATABASE_URL: value });
      expect(error.variable).toBe("DATABASE_URL");
      expectOneLine(error);
    },
  );

  it.each(["postgres://postgres@127.0.0.1:5432/postgres", "postgresql://u:p@db.example.com/app?sslmode=require"])(
    "accepts the DATABASE_URL %s",
    (value) => {
      expect(parseEnv({ DATABASE_URL: value }).DATABASE_URL).toBe(value);
    },
  );

  it("rejects an Upstash URL without its token, naming the token", () => {
    const error = envError({ UPSTASH_REDIS_REST_URL: "https://eu1-example.upstash.io" });
    expect(error.variable).toBe("UPSTASH_REDIS_REST_TOKEN");
    expectOneLine(error);
  });

  it("rejects an Upstash token without its URL, naming the URL", () => {
    expect(envError({ UPSTASH_REDIS_REST_TOKEN: "secret" }).variable).toBe("UPSTASH_REDIS_REST_URL");
  });

  it("does not echo the token in its message", () => {
    const error = envError({ UPSTASH_REDIS_REST_TOKEN: "very-secret-token" });
    expect(error.message).not.toContain("very-secret-token");
  });

  it("accepts Upstash URL and token together", () => {
    const env = parseEnv({ UPSTASH_REDIS_REST_URL: "https://eu1-example.upstash.io", UPSTASH_REDIS_REST_TOKEN: "t" });
    expect(env.UPSTASH_REDIS_REST_URL).toBe("https://eu1-example.upstash.io");
    expect(env.UPSTASH_REDIS_REST_TOKEN).toBe("t");
  });

  it("rejects a non-http Upstash URL", () => {
    expect(envError({ UPSTASH_REDIS_REST_URL: "redis://x", UPSTASH_REDIS_REST_TOKEN: "t" }).variable).toBe(
      "UPSTASH_REDIS_REST_URL",
    );
  });

  it("rejects a value outside an enum", () => {
    expect(envError({ MODERATION: "maybe" }).variable).toBe("MODERATION");
    expect(envError({ TRUST_PROXY_HEADER: "forwarded" }).variable).toBe("TRUST_PROXY_HEADER");
    expect(envError({ REDIS_KEY_PREFIX: "has space" }).variable).toBe("REDIS_KEY_PREFIX");
  });

  it("ignores unknown variables", () => {
    const env = parseEnv({ PATH: "/usr/bin", SOMETHING_ELSE: "x", GEN_MAX_INFLIGHT_TYPO: "abc" });
    expect(env).not.toHaveProperty("PATH");
    expect(env).not.toHaveProperty("SOMETHING_ELSE");
    expect(env.GEN_MAX_INFLIGHT).toBe(25);
    for (const key of Object.keys(env)) expect(Object.keys(envSchema.shape), key).toContain(key);
  });

  it("treats an empty or blank optional string as unset", () => {
    const env = parseEnv({
      DATABASE_URL: "",
      OPENAI_API_KEY: "   ",
      METRICS_TOKEN: "",
      DEBUG: "",
      OPENAI_BASE_URL: "",
      UPSTASH_REDIS_REST_URL: "",
      UPSTASH_REDIS_REST_TOKEN: "",
    });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.OPENAI_API_KEY).toBeUndefined();
    expect(env.METRICS_TOKEN).toBeUndefined();
    expect(env.DEBUG).toBeUndefined();
    expect(env.OPENAI_BASE_URL).toBeUndefined();
    expect(env.UPSTASH_REDIS_REST_URL).toBeUndefined();
  });

  it("treats an empty Upstash token as missing when the URL is set", () => {
    const error = envError({ UPSTASH_REDIS_REST_URL: "https://eu1-example.upstash.io", UPSTASH_REDIS_REST_TOKEN: "" });
    expect(error.variable).toBe("UPSTASH_REDIS_REST_TOKEN");
  });

  it("treats undefined values as unset", () => {
    expect(parseEnv({ GEN_MAX_INFLIGHT: undefined, DATABASE_URL: undefined }).GEN_MAX_INFLIGHT).toBe(25);
  });
});
