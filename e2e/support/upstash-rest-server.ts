/**
 * An Upstash-REST-compatible HTTP server in front of a real `redis-server`, for integration
 * tests, browser tests and benchmarks. It speaks the subset of the protocol that
 * `@upstash/redis` (1.39) actually uses:
 *
 *   POST /            body ["SET","k","v"]          -> {"result": ...} | 400 {"error": ...}
 *   POST /pipeline    body [["SET","k","v"],[...]]  -> [{"result"} | {"error"}, ...]
 *   POST /multi-exec  same body, run in MULTI/EXEC  -> [{"result"} | {"error"}, ...]
 *
 * Run standalone: `REDIS_URL=redis://127.0.0.1:6379 tsx e2e/support/upstash-rest-server.ts`
 * prints one JSON line {"url","token"} once it is listening.
 *
 * Limitations worth knowing: every request shares one Redis connection, so blocking commands
 * (BLPOP, XREAD BLOCK, ...) stall all other requests until they return, and commands that would
 * change that connection's state (SELECT, SUBSCRIBE, WATCH, ...) are refused.
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { Redis } from "ioredis";
import { listen, portFromEnv } from "./listen";

export interface UpstashRestServerOptions {
  redisUrl: string; // e.g. "redis://127.0.0.1:6379/0"
  token?: string; // bearer token; default random hex
  port?: number; // default 0 (ephemeral)
  host?: string; // default "127.0.0.1"
}

export interface UpstashRestServer {
  url: string; // "http://127.0.0.1:PORT"
  token: string;
  /** stop accepting and close all sockets; makes the server "unreachable" (ECONNREFUSED) */
  stop(): Promise<void>;
  /** listen again on the SAME port after stop() (to simulate Redis coming back) */
  restart(): Promise<void>;
  /** number of HTTP requests served (each is one round trip) */
  requestCount(): number;
  resetRequestCount(): void;
  close(): Promise<void>; // stop + quit the ioredis connection
}

const MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * Commands that would change the state of the single shared Redis connection (and so leak into
 * every other request), or that ioredis itself treats specially. Upstash refuses most of them too.
 */
const REFUSED_COMMANDS = new Set([
  "AUTH",
  "DISCARD",
  "EXEC",
  "HELLO",
  "MONITOR",
  "MULTI",
  "PSUBSCRIBE",
  "PUNSUBSCRIBE",
  "QUIT",
  "RESET",
  "SELECT",
  "SSUBSCRIBE",
  "SUBSCRIBE",
  "SUNSUBSCRIBE",
  "UNSUBSCRIBE",
  "UNWATCH",
  "WATCH",
]);

/**
 * Script flags Redis 7.0 does not know. Upstash's own Redis accepts `allow-key-locking`, and
 * @upstash/ratelimit >= 2.1 puts it on every script, but stock Redis 7.0 rejects the whole script
 * with "Unexpected flag in script shebang".
 */
const UNSUPPORTED_SCRIPT_FLAGS = new Set(["allow-key-locking"]);

type JsonReply = string | number | null | JsonReply[];
type ResultOrError = { result: JsonReply } | { error: string };

/** A command ready for ioredis, plus an optional fix-up of its raw reply. */
interface PreparedCommand {
  name: string;
  args: string[];
  mapReply?: (reply: unknown) => unknown;
}

class RefusedCommandError extends Error {}

/**
 * An error reply from Redis itself (ioredis' ReplyError, typed `any` in its .d.ts) or a command
 * this server refuses: the client gets these as {"error"}, with HTTP 400 for a single command.
 * Anything else (connection refused, retries exhausted) means Redis is unreachable.
 */
function isCommandError(error: unknown): error is Error {
  return error instanceof Error && (error.name === "ReplyError" || error instanceof RefusedCommandError);
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const sha1 = (text: string): string => createHash("sha1").update(text, "utf8").digest("hex");

/**
 * Drops unsupported flags from a `#!lua` shebang; if no flag is left the line is blanked rather
 * than removed, so line numbers in Lua error messages still match the original script.
 */
export function stripUnsupportedShebang(script: string): string {
  const match = /^#!lua([^\n]*)/.exec(script);
  if (!match) return script;
  let changed = false;
  const options = (match[1] ?? "")
    .trim()
    .split(/\s+/)
    .filter((option) => option !== "")
    .flatMap((option) => {
      if (!option.startsWith("flags=")) return [option];
      const all = option.slice("flags=".length).split(",");
      const kept = all.filter((flag) => !UNSUPPORTED_SCRIPT_FLAGS.has(flag.trim()));
      if (kept.length === all.length) return [option];
      changed = true;
      return kept.length > 0 ? [`flags=${kept.join(",")}`] : [];
    });
  if (!changed) return script;
  const line = options.length > 0 ? `#!lua ${options.join(" ")}` : "";
  return line + script.slice(match[0].length);
}

/**
 * Turns a raw ioredis reply (Buffers, numbers, nulls, nested arrays) into JSON. With
 * `Upstash-Encoding: base64` the client runs every string it gets through atob + UTF-8
 * TextDecoder (except a bare top-level "OK"), so every string - bulk AND status replies such as
 * "OK" or TYPE's "string" - is sent as base64 of its raw bytes; numbers and null pass through.
 */
function encodeReply(reply: unknown, base64: boolean): JsonReply {
  if (reply === null || reply === undefined) return null;
  if (typeof reply === "number") return reply;
  if (Buffer.isBuffer(reply)) return base64 ? reply.toString("base64") : reply.toString("utf8");
  if (typeof reply === "string") return encodeReply(Buffer.from(reply, "utf8"), base64);
  if (Array.isArray(reply)) return reply.map((item) => encodeReply(item, base64));
  // An error nested in an array (a Lua table holding redis.error_reply) has no JSON slot of its
  // own; its message is the most useful thing to hand back.
  if (reply instanceof Error) return encodeReply(Buffer.from(reply.message, "utf8"), base64);
  return null;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "<unparseable url>";
  }
}

/** Reads the whole body, or null once it passes the limit (read on, so the 413 can be delivered). */
function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on("end", () => resolve(size > MAX_BODY_BYTES ? null : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Validates one command: a non-empty array of strings/numbers/booleans (the client's serializer output). */
function parseCommand(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new HttpError(400, "ERR failed to parse command: expected a non-empty JSON array");
  }
  return value.map((arg: unknown) => {
    if (typeof arg === "string") return arg;
    if (typeof arg === "number" || typeof arg === "boolean") return String(arg);
    throw new HttpError(400, "ERR failed to parse command: arguments must be strings, numbers or booleans");
  });
}

function parseCommandList(value: unknown): string[][] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new HttpError(400, "ERR failed to parse pipeline request: expected a non-empty JSON array of commands");
  }
  return value.map(parseCommand);
}

export async function startUpstashRestServer(opts: UpstashRestServerOptions): Promise<UpstashRestServer> {
  const token = opts.token ?? randomBytes(16).toString("hex");
  const host = opts.host ?? "127.0.0.1";

  const redis = new Redis(opts.redisUrl, {
    lazyConnect: true,
    // Fail a request quickly while Redis is down instead of queueing it for ~20 reconnects.
    maxRetriesPerRequest: 1,
    connectionName: "upstash-rest-test-server",
  });
  // Without a listener ioredis prints "Unhandled error event" on every reconnect attempt;
  // failures surface through the commands instead. The last one names the real cause
  // (ECONNREFUSED, ...) where connect() only says "Connection is closed".
  let lastRedisError: Error | undefined;
  redis.on("error", (error: Error) => {
    lastRedisError = error;
  });
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    const reason = lastRedisError?.message ?? errorMessage(error);
    throw new Error(`upstash-rest-server: cannot reach Redis at ${redactUrl(opts.redisUrl)}: ${reason}`, { cause: error });
  }

  // SHA1 of a script as the client wrote it -> SHA1 of the text Redis actually stored. The client
  // hashes its own script text for EVALSHA, so EVALSHA must accept the original hash.
  const scriptShas = new Map<string, string>();

  const rememberScript = (script: string): string => {
    const stripped = stripUnsupportedShebang(script);
    if (stripped !== script) scriptShas.set(sha1(script), sha1(stripped));
    return stripped;
  };
  const translateSha = (sha: string): string => scriptShas.get(sha.toLowerCase()) ?? sha;

  function prepare(command: string[]): PreparedCommand {
    const [rawName = "", ...args] = command;
    // Upper case on purpose: ioredis looks up reply transformers by exact (lower-case) name, and
    // its "hgetall" one would turn the flat array into an object.
    const name = rawName.toUpperCase();
    if (REFUSED_COMMANDS.has(name)) {
      throw new RefusedCommandError(`ERR command '${rawName}' is not supported by the Upstash REST test server`);
    }
    switch (name) {
      case "EVAL":
      case "EVAL_RO":
        if (args[0] !== undefined) args[0] = rememberScript(args[0]);
        break;
      case "EVALSHA":
      case "EVALSHA_RO":
        if (args[0] !== undefined) args[0] = translateSha(args[0]);
        break;
      case "SCRIPT": {
        const sub = args[0]?.toUpperCase();
        if (sub === "LOAD" && args[1] !== undefined) {
          const original = args[1];
          args[1] = rememberScript(original);
          // Answer with the hash of what the client sent, the one it will use for EVALSHA.
          return { name, args, mapReply: (reply) => (reply === null ? reply : Buffer.from(sha1(original))) };
        }
        if (sub === "EXISTS") return { name, args: args.map((arg, i) => (i === 0 ? arg : translateSha(arg))) };
        break;
      }
    }
    return { name, args };
  }

  const toResult = (prepared: PreparedCommand, error: Error | null, reply: unknown, base64: boolean): ResultOrError =>
    error
      ? { error: error.message }
      : { result: encodeReply(prepared.mapReply ? prepared.mapReply(reply) : reply, base64) };

  async function runSingle(command: string[], base64: boolean): Promise<{ status: number; body: ResultOrError }> {
    try {
      const prepared = prepare(command);
      const reply = await redis.callBuffer(prepared.name, ...prepared.args);
      return { status: 200, body: toResult(prepared, null, reply, base64) };
    } catch (error) {
      // NOSCRIPT must arrive as {"error":"NOSCRIPT ..."}: the client's evalsha -> eval fallback
      // only looks for that word in the message.
      return { status: isCommandError(error) ? 400 : 500, body: { error: errorMessage(error) } };
    }
  }

  async function runPipeline(commands: string[][], base64: boolean): Promise<ResultOrError[]> {
    // A command refused up front still gets its own error slot, like any other failing command.
    const prepared = commands.map((command): PreparedCommand | Error => {
      try {
        return prepare(command);
      } catch (error) {
        return error instanceof Error ? error : new Error(String(error));
      }
    });
    const pipeline = redis.pipeline();
    for (const p of prepared) if (!(p instanceof Error)) pipeline.callBuffer(p.name, ...p.args);
    const replies = (await pipeline.exec()) ?? [];
    let next = 0;
    return prepared.map((p) => {
      if (p instanceof Error) return { error: p.message };
      const [error, reply] = replies[next++] ?? [new Error("ERR missing reply"), null];
      return toResult(p, error, reply, base64);
    });
  }

  async function runMultiExec(commands: string[][], base64: boolean): Promise<ResultOrError[]> {
    // A transaction can't run partially, so a refused command rejects the whole request.
    const prepared = commands.map(prepare);
    // ioredis writes MULTI..EXEC in one go, so other requests on the shared connection cannot
    // land inside the transaction.
    const multi = redis.multi();
    for (const p of prepared) multi.callBuffer(p.name, ...p.args);
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await multi.exec();
    } catch (error) {
      // EXECABORT alone says nothing; the queueing error that caused it does.
      const previous: unknown = error instanceof Error ? Reflect.get(error, "previousErrors") : undefined;
      const cause = Array.isArray(previous) && previous[0] instanceof Error ? `: ${previous[0].message}` : "";
      if (isCommandError(error)) throw new HttpError(400, `${error.message}${cause}`);
      throw error;
    }
    if (!replies) throw new HttpError(400, "EXECABORT transaction aborted");
    return prepared.map((p, i) => {
      const [error, reply] = replies[i] ?? [new Error("ERR missing reply"), null];
      return toResult(p, error, reply, base64);
    });
  }

  // Every request counts, rejected ones included: each is a round trip a benchmark pays for.
  let requests = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    requests++;
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${token}`) return send(401, { error: "Unauthorized" });

    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path !== "/" && path !== "/pipeline" && path !== "/multi-exec") return send(404, { error: "Not Found" });
    if (req.method !== "POST") return send(405, { error: "Method Not Allowed" });

    const raw = await readBody(req);
    if (raw === null) return send(413, { error: "ERR request body exceeds 10 MB" });
    let body: unknown;
    try {
      body = JSON.parse(raw.toString("utf8"));
    } catch {
      return send(400, { error: "ERR failed to parse request body as JSON" });
    }
    const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";

    try {
      if (path === "/") {
        const { status, body: reply } = await runSingle(parseCommand(body), base64);
        return send(status, reply);
      }
      const commands = parseCommandList(body);
      send(200, path === "/pipeline" ? await runPipeline(commands, base64) : await runMultiExec(commands, base64));
    } catch (error) {
      const status = error instanceof HttpError ? error.status : isCommandError(error) ? 400 : 500;
      send(status, { error: errorMessage(error) });
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ error: errorMessage(error) }));
    });
  });
  // Longer than a client's idle keep-alive, so a client never reuses a connection this server is
  // closing (Node's default of 5 s loses that race under load: "other side closed").
  server.keepAliveTimeout = 65_000;

  let url: string;
  try {
    url = await listen(server, opts.port, host);
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  // Remembered so restart() comes back on the same URL, even when the port was ephemeral.
  const port = (server.address() as AddressInfo).port;

  const stop = async (): Promise<void> => {
    if (!server.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // close() alone waits for keep-alive and in-flight sockets; a "down" server must drop them
    // so the next request sees ECONNREFUSED rather than a still-open pooled connection.
    server.closeAllConnections();
    await closed;
  };

  let closed = false;
  return {
    url,
    token,
    stop,
    restart: async () => {
      if (closed) throw new Error("upstash-rest-server: restart() after close()");
      if (!server.listening) await listen(server, port, host);
    },
    requestCount: () => requests,
    resetRequestCount: () => {
      requests = 0;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await stop();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

async function main(): Promise<void> {
  const port = portFromEnv();
  const server = await startUpstashRestServer({
    redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
    token: process.env.UPSTASH_TEST_TOKEN || undefined,
    port,
  });
  const shutdown = (): void => {
    void server.close().finally(() => process.exit(0));
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
  process.stdout.write(`${JSON.stringify({ url: server.url, token: server.token })}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${errorMessage(error)}\n`);
    process.exit(1);
  });
}
