/**
 * Proves the Upstash REST test server against the real clients: @upstash/redis (both with its
 * default auto-pipelining, which sends every command through /pipeline, and without it, which
 * sends one POST / per command) and @upstash/ratelimit. Needs a running redis-server; uses db 0
 * with a random key prefix and deletes its keys afterwards.
 */
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { Ratelimit } from "@upstash/ratelimit";
import { type RedisConfigNodejs, Redis as UpstashRedis } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUpstashRestServer, stripUnsupportedShebang, type UpstashRestServer } from "./upstash-rest-server";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0";
const prefix = `test:upstash-rest-server:${randomBytes(6).toString("hex")}:`;
const key = (name: string): string => prefix + name;

let direct: IORedis;
let server: UpstashRestServer;
/** One HTTP request per command, so request counts are exact. */
let plain: UpstashRedis;
/** The library default: commands issued in the same tick are batched into one /pipeline request. */
let auto: UpstashRedis;

function client(overrides: Partial<RedisConfigNodejs> = {}): UpstashRedis {
  return new UpstashRedis({
    url: server.url,
    token: server.token,
    enableTelemetry: false,
    retry: false,
    ...overrides,
  });
}

/** The error code at the bottom of a fetch failure ("fetch failed" -> cause ECONNREFUSED). */
function rootCode(error: unknown): unknown {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    if ("code" in current && typeof current.code === "string") return current.code;
    current = "cause" in current ? current.cause : undefined;
  }
  return undefined;
}

beforeAll(async () => {
  direct = new IORedis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let lastError: Error | undefined;
  direct.on("error", (error: Error) => {
    lastError = error;
  });
  try {
    await direct.connect();
    await direct.ping();
  } catch (error) {
    const reason = lastError?.message ?? (error instanceof Error ? error.message : String(error));
    throw new Error(
      `Redis is not reachable at ${REDIS_URL} (${reason}). ` +
        "These tests need a running redis-server; start one or set REDIS_URL.",
    );
  }
  server = await startUpstashRestServer({ redisUrl: REDIS_URL });
  plain = client({ enableAutoPipelining: false });
  auto = client();
});

afterAll(async () => {
  await server?.close();
  if (direct?.status === "ready") {
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = await direct.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== "0");
    if (keys.length > 0) await direct.del(...keys);
  }
  direct?.disconnect();
});

describe("upstash REST test server with @upstash/redis", () => {
  it("SET with EX, GET and TTL", async () => {
    expect(await plain.set(key("ex"), "value", { ex: 10 })).toBe("OK");
    expect(await plain.get(key("ex"))).toBe("value");
    const ttl = await plain.ttl(key("ex"));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(10);
    expect(await plain.get(key("missing"))).toBeNull();
  });

  it("round-trips a JSON object (the client serializes it, then parses the reply)", async () => {
    const value = { id: 7, name: "Ada", tags: ["a", "b"], nested: { ok: true, n: null, pi: 3.14 } };
    await auto.set(key("json"), value);
    expect(await auto.get<typeof value>(key("json"))).toEqual(value);
    expect(await direct.get(key("json"))).toBe(JSON.stringify(value));
  });

  it("round-trips UTF-8 and awkward strings byte for byte", async () => {
    const raw = client({ enableAutoPipelining: false, automaticDeserialization: false });
    const values = [
      "你好，世界 👋🏽 café",
      "OK", // the client special-cases a bare "OK" reply
      "T0s=", // valid base64 of "OK": must not be decoded twice
      "string",
      '{"a":1}',
      "123",
      "line\nbreak\ttab \u0000\u0001\u007f",
      "",
    ];
    for (const [i, value] of values.entries()) {
      await raw.set(key(`utf8:${i}`), value);
      expect(await raw.get(key(`utf8:${i}`))).toBe(value);
      expect((await direct.getBuffer(key(`utf8:${i}`)))?.equals(Buffer.from(value, "utf8"))).toBe(true);
    }
    // The same through the default client's /pipeline path, plus an array reply.
    await auto.rpush(key("utf8:list"), ...values);
    expect(await raw.lrange(key("utf8:list"), 0, -1)).toEqual(values);
    // Status replies are strings too (TYPE answers "+string"), not only bulk strings.
    expect(await plain.type(key("utf8:list"))).toBe("list");
  });

  it("INCR / INCRBY return numbers", async () => {
    expect(await plain.incr(key("counter"))).toBe(1);
    expect(await plain.incr(key("counter"))).toBe(2);
    expect(await auto.incrby(key("counter"), 40)).toBe(42);
  });

  it("pipeline: one request, per-command results and errors", async () => {
    server.resetRequestCount();
    const results = await plain
      .pipeline()
      .set(key("p:a"), "1")
      .incr(key("p:a"))
      .get(key("p:a"))
      .hset(key("p:h"), { f1: "v1", f2: "v2" })
      .hgetall(key("p:h"))
      .exec();
    expect(results).toEqual(["OK", 2, 2, 2, { f1: "v1", f2: "v2" }]);
    expect(server.requestCount()).toBe(1);

    // A failing command fails only its own slot; the others still ran.
    const withError = await plain
      .pipeline()
      .set(key("p:b"), "x")
      .incr(key("p:b"))
      .get(key("p:b"))
      .exec({ keepErrors: true });
    expect(withError.map((r) => r.error)).toEqual([undefined, expect.stringContaining("not an integer"), undefined]);
    expect(withError[2]?.result).toBe("x");
  });

  it("multi-exec: one request, runs as a transaction", async () => {
    server.resetRequestCount();
    const results = await plain.multi().set(key("m:a"), "10").incr(key("m:a")).get(key("m:a")).exec();
    expect(results).toEqual(["OK", 11, 11]);
    expect(server.requestCount()).toBe(1);

    // A command Redis rejects while queueing aborts the whole transaction (the typed client
    // cannot build one, hence the raw request).
    const res = await fetch(`${server.url}/multi-exec`, {
      method: "POST",
      headers: { Authorization: `Bearer ${server.token}` },
      body: JSON.stringify([["SET", key("m:c"), "1"], ["SET", key("m:c")]]),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: expect.stringContaining("EXECABORT") });
    expect(await direct.exists(key("m:c"))).toBe(0);
  });

  it("createScript: first exec falls back from EVALSHA (NOSCRIPT) to EVAL, then EVALSHA hits", async () => {
    // A nonce keeps the script text unique, so Redis cannot have it cached from an earlier run.
    const nonce = randomBytes(8).toString("hex");
    const script = plain.createScript<[number, string, [number, string], string]>(
      `-- ${nonce}\n` +
        `local n = redis.call('INCR', KEYS[1])\n` +
        `return {n, ARGV[1], {n * 2, 'nested'}, redis.call('SET', KEYS[2], ARGV[1])}`,
    );
    server.resetRequestCount();
    expect(await script.exec([key("s:n"), key("s:v")], ["héllo ✓"])).toEqual([1, "héllo ✓", [2, "nested"], "OK"]);
    expect(server.requestCount()).toBe(2); // EVALSHA -> NOSCRIPT, then EVAL
    expect(await script.exec([key("s:n"), key("s:v")], ["again"])).toEqual([2, "again", [4, "nested"], "OK"]);
    expect(server.requestCount()).toBe(3); // EVALSHA only
    expect(await direct.get(key("s:v"))).toBe("again");

    // The same fallback through the default client, where the NOSCRIPT arrives inside a /pipeline reply.
    const viaPipeline = auto.createScript<number>(`-- ${nonce} pipeline\nreturn redis.call('INCR', KEYS[1])`);
    expect(await viaPipeline.exec([key("s:p")], [])).toBe(1);
    expect(await viaPipeline.exec([key("s:p")], [])).toBe(2);
  });

  it("scripts with an `allow-key-locking` shebang run on Redis 7.0, addressed by the original SHA1", async () => {
    const nonce = randomBytes(8).toString("hex");
    const text = `#!lua flags=allow-key-locking\n-- ${nonce}\nreturn {ARGV[1], redis.call('INCR', KEYS[1])}`;
    const script = plain.createScript<[string, number]>(text);

    server.resetRequestCount();
    expect(await script.exec([key("sb:n")], ["a"])).toEqual(["a", 1]);
    expect(server.requestCount()).toBe(2);
    expect(await script.exec([key("sb:n")], ["b"])).toEqual(["b", 2]);
    expect(server.requestCount()).toBe(3);
    // Script.sha1 is what the client computed over its own text (shebang included).
    expect(await plain.scriptExists(script.sha1)).toEqual([1]);

    // SCRIPT LOAD answers with the hash of the text sent, which then works for EVALSHA.
    const loaded = `#!lua flags=allow-key-locking\n-- ${nonce} loaded\nreturn 'loaded'`;
    const sha = await plain.scriptLoad(loaded);
    expect(sha).toBe(createHash("sha1").update(loaded, "utf8").digest("hex"));
    expect(await plain.evalsha(sha, [], [])).toBe("loaded");

    expect(stripUnsupportedShebang("#!lua flags=no-writes,allow-key-locking\nreturn 1")).toBe(
      "#!lua flags=no-writes\nreturn 1",
    );
    expect(stripUnsupportedShebang("#!lua flags=no-writes\nreturn 1")).toBe("#!lua flags=no-writes\nreturn 1");
    expect(stripUnsupportedShebang("return 1")).toBe("return 1");
  });

  it("@upstash/ratelimit slidingWindow(3, '10 s') allows 3 then denies the 4th", async () => {
    const ratelimit = new Ratelimit({
      redis: auto,
      limiter: Ratelimit.slidingWindow(3, "10 s"),
      prefix: key("rl"),
      ephemeralCache: false,
    });
    const id = `user-${randomBytes(4).toString("hex")}`;
    // A sliding window weighs the previous window by the time left in it: four requests that
    // straddle a 10 s boundary may rightly let the 4th through. Start with 2 s of the window left
    // at least, so all four land in one window.
    const intoWindow = Date.now() % 10_000;
    if (intoWindow > 8_000) await new Promise((resolve) => setTimeout(resolve, 10_000 - intoWindow + 50));
    const outcomes: { success: boolean; remaining: number }[] = [];
    for (let i = 0; i < 4; i++) {
      const { success, remaining, pending } = await ratelimit.limit(id);
      await pending;
      outcomes.push({ success, remaining });
    }
    expect(outcomes).toEqual([
      { success: true, remaining: 2 },
      { success: true, remaining: 1 },
      { success: true, remaining: 0 },
      { success: false, remaining: 0 },
    ]);
    // Once the script is known, each limit() is a single round trip (EVALSHA of ratelimit's
    // precomputed hash, translated to the stripped script).
    server.resetRequestCount();
    expect((await ratelimit.limit(id)).success).toBe(false);
    expect(server.requestCount()).toBe(1);
  });

  it("rejects a wrong or missing token with 401", async () => {
    const bad = client({ token: "not-the-token", enableAutoPipelining: false });
    await expect(bad.get(key("x"))).rejects.toThrow(/Unauthorized/);
    const res = await fetch(server.url, { method: "POST", body: JSON.stringify(["PING"]) });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: "Unauthorized" });
  });

  it("answers raw protocol edge cases: no base64 header, 404, 413, redis error → 400", async () => {
    const post = (path: string, body: string, headers: Record<string, string> = {}) =>
      fetch(`${server.url}${path}`, {
        method: "POST",
        headers: { Authorization: `Bearer ${server.token}`, ...headers },
        body,
      });
    await direct.set(key("raw"), "ünï");
    expect(await (await post("/", JSON.stringify(["GET", key("raw")]))).json()).toEqual({ result: "ünï" });
    expect(
      await (await post("/", JSON.stringify(["GET", key("raw")]), { "Upstash-Encoding": "base64" })).json(),
    ).toEqual({ result: Buffer.from("ünï").toString("base64") });
    expect((await post("/nope", "[]")).status).toBe(404);
    expect((await post("/", "x".repeat(10 * 1024 * 1024 + 1))).status).toBe(413);
    const wrongType = await post("/", JSON.stringify(["INCR", key("raw")]));
    expect(wrongType.status).toBe(400);
    expect(await wrongType.json()).toEqual({ error: expect.stringContaining("not an integer") });
    // A client with base64 turned off still works.
    expect(await client({ responseEncoding: false, enableAutoPipelining: false }).get(key("raw"))).toBe("ünï");
  });

  it("stop() makes the server unreachable; restart() brings it back on the same URL", async () => {
    const resilient = client({ enableAutoPipelining: false, retry: { retries: 2, backoff: () => 20 } });
    await resilient.set(key("down"), "before");
    const url = server.url;

    await server.stop();
    try {
      const error = await resilient.get(key("down")).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      expect(rootCode(error)).toBe("ECONNREFUSED");
      await server.stop(); // idempotent
    } finally {
      await server.restart();
    }

    expect(server.url).toBe(url);
    expect(await resilient.get(key("down"))).toBe("before");
  });

  it("requestCount counts one per command and one per pipeline", async () => {
    server.resetRequestCount();
    expect(server.requestCount()).toBe(0);
    await plain.set(key("c:a"), "1");
    await plain.get(key("c:a"));
    await plain.del(key("c:a"));
    expect(server.requestCount()).toBe(3);

    await plain.pipeline().set(key("c:b"), "1").get(key("c:b")).del(key("c:b")).exec();
    expect(server.requestCount()).toBe(4);

    // Auto-pipelining batches writes issued in the same tick into one /pipeline request.
    await Promise.all([auto.set(key("c:c"), "1"), auto.set(key("c:d"), "2"), auto.incr(key("c:e"))]);
    expect(server.requestCount()).toBe(5);
  });

  it("runs as a CLI, printing {url, token} and exiting on SIGTERM", async () => {
    const entry = fileURLToPath(new URL("./upstash-rest-server.ts", import.meta.url));
    const tsx = fileURLToPath(new URL("../../node_modules/.bin/tsx", import.meta.url));
    const token = randomBytes(8).toString("hex");
    const child = spawn(tsx, [entry], {
      env: { ...process.env, REDIS_URL, UPSTASH_TEST_TOKEN: token, PORT: "0" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString("utf8");
          const newline = out.indexOf("\n");
          if (newline >= 0) resolve(out.slice(0, newline));
        });
        child.once("exit", (code) => reject(new Error(`CLI exited early with code ${String(code)}`)));
      });
      const ready = JSON.parse(line) as { url: string; token: string };
      expect(ready.token).toBe(token);
      expect(ready.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const cli = new UpstashRedis({ url: ready.url, token, enableTelemetry: false, retry: false });
      expect(await cli.ping()).toBe("PONG");
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, "exit");
        child.kill("SIGTERM");
        await exited;
      }
    }
    expect(child.exitCode).toBe(0);
  });
});
