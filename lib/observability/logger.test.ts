import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { parseEnv } from "@/lib/env";
import { createLogger, secretValues } from "./logger";

/**
 * PRODUCT §6: secrets never reach the logs, and `DEBUG=litstatus:*` turns on debug logging.
 * Each case logs through a real pino logger into a stream and reads the JSON lines back.
 */
const SECRETS = {
  AUTH_SECRET: "auth-secret-value-0123456789abcdef-XYZ",
  OPENAI_API_KEY: "sk-live-openai-key-0123456789",
  UPSTASH_REDIS_REST_URL: "https://redis.example",
  UPSTASH_REDIS_REST_TOKEN: "upstash-rest-token-0123456789",
  METRICS_TOKEN: "metrics-token-0123456789",
  CRON_SECRET: 'cron "secret" with\\quotes-0123',
};
const DB_PASSWORD = "p@ss:w/rd-0123456789";
const DATABASE_URL = `postgres://app:${encodeURIComponent(DB_PASSWORD)}@db.internal:5432/litstatus`;

function capture(env: Record<string, string> = {}) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      done();
    },
  });
  const log = createLogger(parseEnv({ ...SECRETS, DATABASE_URL, ...env }), destination);
  return { log, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe("logger", () => {
  it("redacts credentials by field name, at the top and one level down", () => {
    const { log, parsed } = capture();
    log.info({ headers: { authorization: "Bearer abc.def.ghi", cookie: "sb=1", accept: "*/*" } }, "request");
    log.info({ req: { headers: { authorization: "Bearer nested", cookie: "c=2" } }, token: "t-123", config: { apiKey: "k-1", password: "pw-1", secret: "s-1" } }, "more");
    const [first, second] = parsed();
    expect(first).toMatchObject({ headers: { authorization: "[redacted]", cookie: "[redacted]", accept: "*/*" }, msg: "request" });
    expect(second).toMatchObject({
      req: { headers: { authorization: "[redacted]", cookie: "[redacted]" } },
      token: "[redacted]",
      config: { apiKey: "[redacted]", password: "[redacted]", secret: "[redacted]" },
    });
  });

  it("replaces every configured secret value wherever it appears: messages, errors, bindings, nested fields", () => {
    const { log, lines, parsed } = capture();
    log.error({ err: new Error(`connect failed: ${DATABASE_URL}`) }, "database down");
    log.warn(`upstream rejected key ${SECRETS.OPENAI_API_KEY}`);
    log.child({ upstream: { url: `https://x.example/?token=${SECRETS.UPSTASH_REDIS_REST_TOKEN}` } }).info("call");
    log.info({ detail: { deep: { deeper: [SECRETS.AUTH_SECRET, SECRETS.METRICS_TOKEN] } } }, "deep");
    log.info({ quoted: SECRETS.CRON_SECRET, plain: DB_PASSWORD }, "escaped in JSON");
    expect(lines).toHaveLength(5);
    const all = lines.join("\n");
    const { UPSTASH_REDIS_REST_URL: _url, ...secretOnes } = SECRETS;
    for (const value of [...Object.values(secretOnes), DB_PASSWORD, encodeURIComponent(DB_PASSWORD), JSON.stringify(SECRETS.CRON_SECRET).slice(1, -1)]) {
      expect(all, value).not.toContain(value);
    }
    // Still one valid JSON object per line, with everything else kept.
    const [db, key, call, deep, quoted] = parsed();
    expect((db!.err as { message: string }).message).toBe("connect failed: postgres://app:[redacted]@db.internal:5432/litstatus");
    expect(key!.msg).toBe("upstream rejected key [redacted]");
    expect(call!.upstream).toEqual({ url: "https://x.example/?token=[redacted]" });
    expect(deep!.detail).toEqual({ deep: { deeper: ["[redacted]", "[redacted]"] } });
    expect(quoted).toMatchObject({ quoted: "[redacted]", plain: "[redacted]" });
  });

  it("searches only for configured values of at least 8 characters (no false hits on short ones)", () => {
    expect(secretValues(parseEnv({}))).toEqual([]);
    const values = secretValues(parseEnv({ METRICS_TOKEN: "short", OPENAI_API_KEY: "sk-0123456789" }));
    expect(values).toEqual(["sk-0123456789"]);
    const { log, parsed } = capture({ METRICS_TOKEN: "short" });
    log.info("a short word stays");
    expect(parsed()[0]!.msg).toBe("a short word stays");
  });

  it("DEBUG=litstatus:* (or *) turns on debug lines; LOG_LEVEL decides otherwise, and silent stays silent", () => {
    const levelOf = (env: Record<string, string>) => capture(env).log.level;
    expect(levelOf({})).toBe("info");
    expect(levelOf({ DEBUG: "litstatus:*" })).toBe("debug");
    expect(levelOf({ DEBUG: "other:*, litstatus:*" })).toBe("debug");
    expect(levelOf({ DEBUG: "*" })).toBe("debug");
    expect(levelOf({ DEBUG: "litstatus:kv" })).toBe("info");
    expect(levelOf({ LOG_LEVEL: "warn" })).toBe("warn");
    expect(levelOf({ LOG_LEVEL: "silent", DEBUG: "litstatus:*" })).toBe("silent");

    const { log, parsed } = capture({ DEBUG: "litstatus:*" });
    log.child({ ns: "litstatus:kv" }).debug("a debug line");
    expect(parsed()[0]).toMatchObject({ level: "debug", ns: "litstatus:kv", msg: "a debug line", service: "litstatus" });
  });
});
