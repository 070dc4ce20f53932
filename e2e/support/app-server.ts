/**
 * LitStatus's API without Next: every `app/api/**\/route.ts` handler served by a bare
 * node:http server, so tests and the benchmark can run several app instances as separate
 * processes (e.g. two instances sharing one Redis semaphore), each started in seconds
 * without a `next build`. The handlers, stores and configuration are the real ones; only
 * Next's router is replaced, by a file-system route table with Next's precedence (static
 * segments before `[param]` before `[...catchAll]`). Pages are not served (404).
 *
 * What it does like `npm start`:
 *   - `params` are passed as a Promise (`[...x]` gives a string array), the request carries an
 *     AbortSignal that fires when the client goes away;
 *   - the peer-address layer (lib/http/peer-address.ts) is installed before the server
 *     exists, so handlers see the TCP peer exactly as under `npm start`;
 *   - HEAD falls back to GET without a body, OPTIONS answers 204 with `Allow`, a method the
 *     route does not export answers 405;
 *   - start-up runs lib/startup (configuration checked, database opened) before listening.
 *
 * Run it:
 *
 *   PORT=0 DATABASE_URL=postgres://… UPSTASH_REDIS_REST_URL=http://… UPSTASH_REDIS_REST_TOKEN=… \
 *   REDIS_KEY_PREFIX=bench: OPENAI_API_KEY=sk-test OPENAI_BASE_URL=http://127.0.0.1:4010/v1 \
 *     npx tsx --conditions react-server e2e/support/app-server.ts
 *
 * Configuration is the app's own (lib/env.ts reads process.env; no .env file is loaded). PORT
 * (default 0 = ephemeral) and HOST (default 127.0.0.1) are the server's. Once listening it
 * prints one JSON line `{"url":"http://127.0.0.1:PORT"}` on stdout (the app's own JSON logs
 * go to stdout too: look for the line with a `url` and no `level`), and on SIGTERM/SIGINT it
 * stops accepting (requests still running get 2 s), writes buffered records (at most 3 s more)
 * and exits 0.
 *
 * From TypeScript: `spawnAppServer({ env })` starts such a process and resolves with its URL
 * once it listens; `startAppServer()` runs one inside the current process. This module's top
 * level imports nothing of the app, so importing it (for `spawnAppServer`) is cheap.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { dirname, join, relative, resolve, sep } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { fileURLToPath, pathToFileURL } from "node:url";
import { listen, portFromEnv } from "./listen";

/** The repository root (this file is e2e/support/app-server.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const THIS_FILE = fileURLToPath(import.meta.url);

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
type Method = (typeof METHODS)[number];

type Params = Record<string, string | string[]>;
type RouteHandler = (req: Request, segment: { params: Promise<Params> }) => Promise<Response> | Response;

type SegmentKind = "static" | "dynamic" | "catchAll" | "optionalCatchAll";
interface Segment {
  kind: SegmentKind;
  /** The literal (static) or the parameter name. */
  name: string;
}

export interface RouteEntry {
  /** The route file, relative to the repository root. */
  file: string;
  /** The URL pattern in Next's notation, e.g. `/api/generations/[id]`. */
  path: string;
  segments: Segment[];
  pattern: RegExp;
  handlers: Partial<Record<Method, RouteHandler>>;
}

const KIND_RANK: Record<SegmentKind, number> = { static: 0, dynamic: 1, catchAll: 2, optionalCatchAll: 3 };

function parseSegment(raw: string): Segment {
  let m = /^\[\[\.\.\.([^\]]+)\]\]$/.exec(raw);
  if (m) return { kind: "optionalCatchAll", name: m[1]! };
  m = /^\[\.\.\.([^\]]+)\]$/.exec(raw);
  if (m) return { kind: "catchAll", name: m[1]! };
  m = /^\[([^\]]+)\]$/.exec(raw);
  if (m) return { kind: "dynamic", name: m[1]! };
  return { kind: "static", name: raw };
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function patternFor(segments: Segment[]): RegExp {
  const source = segments
    .map((s) => {
      switch (s.kind) {
        case "static":
          return `/${escapeRegExp(s.name)}`;
        case "dynamic":
          return "/([^/]+)";
        case "catchAll":
          return "/(.+)";
        case "optionalCatchAll":
          return "(?:/(.+))?";
      }
    })
    .join("");
  return new RegExp(`^${source}/?$`);
}

/** Next's precedence: at the first segment where two routes differ in kind, the more specific wins. */
function compareRoutes(a: RouteEntry, b: RouteEntry): number {
  const n = Math.min(a.segments.length, b.segments.length);
  for (let i = 0; i < n; i++) {
    const diff = KIND_RANK[a.segments[i]!.kind] - KIND_RANK[b.segments[i]!.kind];
    if (diff !== 0) return diff;
  }
  return b.segments.length - a.segments.length;
}

/** Every `route.ts` under `dir` (test files and `_private` folders skipped). */
function findRouteFiles(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) {
      if (!name.startsWith("_")) found.push(...findRouteFiles(full));
    } else if (name === "route.ts") {
      found.push(full);
    }
  }
  return found;
}

/** Loads the route table of `app/api` (module imports run here: call it after the env is set). */
export async function loadRoutes(root = REPO_ROOT): Promise<RouteEntry[]> {
  const appDir = join(root, "app");
  const routes: RouteEntry[] = [];
  for (const file of findRouteFiles(join(appDir, "api"))) {
    const segments = relative(appDir, dirname(file))
      .split(sep)
      .filter((part) => !/^\(.*\)$/.test(part)) // route groups do not appear in URLs
      .map(parseSegment);
    const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    const handlers: RouteEntry["handlers"] = {};
    for (const method of METHODS) {
      const handler = mod[method];
      if (typeof handler === "function") handlers[method] = handler as RouteHandler;
    }
    routes.push({
      file: relative(root, file),
      path: `/${segments.map((s) => (s.kind === "static" ? s.name : s.kind === "dynamic" ? `[${s.name}]` : `[...${s.name}]`)).join("/")}`,
      segments,
      pattern: patternFor(segments),
      handlers,
    });
  }
  return routes.sort(compareRoutes);
}

/** The route for a path and its params, or undefined. */
export function matchRoute(routes: RouteEntry[], pathname: string): { route: RouteEntry; params: Params } | undefined {
  for (const route of routes) {
    const m = route.pattern.exec(pathname);
    if (!m) continue;
    const params: Params = {};
    let group = 1;
    try {
      for (const s of route.segments) {
        if (s.kind === "static") continue;
        const value = m[group++];
        if (s.kind === "dynamic") params[s.name] = decodeURIComponent(value!);
        else if (value !== undefined) params[s.name] = value.split("/").map(decodeURIComponent);
      }
    } catch {
      continue; // a malformed %-escape matches nothing, as in Next (404)
    }
    return { route, params };
  }
  return undefined;
}

function plainJson(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers });
  res.end(JSON.stringify({ error: { code, message } }));
}

/**
 * The request body as a web stream, with backpressure (the socket is paused while the handler
 * is not reading). Cancelling it (a handler that stops at its size cap) discards the rest.
 */
function bodyStream(req: IncomingMessage): ReadableStream<Uint8Array> {
  const settle = (fn: () => void): void => {
    try {
      fn();
    } catch {
      // already closed or cancelled
    }
  };
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        req.on("data", (chunk: Buffer) => {
          settle(() => controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
          if ((controller.desiredSize ?? 0) <= 0) req.pause();
        });
        req.once("end", () => settle(() => controller.close()));
        req.once("error", (error) => settle(() => controller.error(error)));
      },
      pull() {
        req.resume();
      },
      cancel() {
        discardBody(req);
      },
    },
    { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
  );
}

/** Reads and drops what is left of a request body, so the keep-alive connection stays usable. */
function discardBody(req: IncomingMessage): void {
  if (req.complete) return;
  req.removeAllListeners("data");
  req.resume();
}

/** IncomingMessage → fetch Request (the body streamed, never buffered here). */
function toRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const host = req.headers.host ?? "127.0.0.1";
  const url = new URL(req.url ?? "/", `http://${host}`);
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  const init: RequestInit & { duplex?: "half" } = { method, headers, signal };
  if (hasBody) {
    init.body = bodyStream(req);
    init.duplex = "half";
  }
  return new Request(url, init);
}

/** fetch Response → ServerResponse, streaming the body. */
async function sendResponse(res: ServerResponse, response: Response, withBody: boolean): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    if (key !== "set-cookie") headers[key] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  res.writeHead(response.status, response.statusText || undefined, headers);
  if (!withBody || !response.body) {
    res.end();
    await response.body?.cancel();
    return;
  }
  // The DOM and node:stream/web typings of ReadableStream differ; the object is the same.
  await pipeline(Readable.fromWeb(response.body as unknown as NodeReadableStream<Uint8Array>), res);
}

async function handle(routes: RouteEntry[], req: IncomingMessage, res: ServerResponse): Promise<void> {
  const controller = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  const pathname = new URL(req.url ?? "/", "http://localhost").pathname;
  const matched = matchRoute(routes, pathname);
  if (!matched) {
    plainJson(res, 404, "not_found", "Not found.");
    return;
  }
  const { route, params } = matched;
  const method = (req.method ?? "GET").toUpperCase() as Method;
  const allowed = METHODS.filter((m) => route.handlers[m] || (m === "HEAD" && route.handlers.GET) || m === "OPTIONS");
  let handler = route.handlers[method];
  if (!handler && method === "HEAD") handler = route.handlers.GET;
  if (!handler && method === "OPTIONS") {
    res.writeHead(204, { allow: allowed.join(", ") });
    res.end();
    return;
  }
  if (!handler) {
    plainJson(res, 405, "method_not_allowed", `${method} is not allowed here.`, { allow: allowed.join(", ") });
    return;
  }
  try {
    const response = await handler(toRequest(req, controller.signal), { params: Promise.resolve(params) });
    await sendResponse(res, response, method !== "HEAD");
  } finally {
    // A handler that answered without reading the body (a 415, a 401): drop the rest of it.
    discardBody(req);
  }
}

export interface AppServer {
  url: string;
  server: Server;
  routes: RouteEntry[];
  close(): Promise<void>;
}

/**
 * Starts the API in this process (configuration from process.env, read once on first use):
 * start-up checks, the route table, then listening. For the benchmark's in-process mode and
 * for `main()` below.
 */
export async function startAppServer(options: { port?: number; host?: string; root?: string } = {}): Promise<AppServer> {
  const { installPeerAddressLayer } = await import("@/lib/http/peer-address");
  installPeerAddressLayer();
  const { startServer } = await import("@/lib/startup");
  await startServer();
  const routes = await loadRoutes(options.root);
  const server = createServer((req, res) => {
    handle(routes, req, res).catch((error: unknown) => {
      // The route wrapper answers every error itself; this is a failure of this adapter.
      process.stderr.write(`app-server: ${req.method} ${req.url}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      if (!res.destroyed) plainJson(res, 500, "internal", "Something went wrong on our side.");
    });
  });
  const url = await listen(server, options.port, options.host);
  let closing: Promise<void> | undefined;
  return {
    url,
    server,
    routes,
    close: () => {
      closing ??= new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeIdleConnections();
        // Requests still running get a moment to finish, then their sockets are cut.
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      });
      return closing;
    },
  };
}

/* ------------------------------------------------------------------ spawning a process */

export interface SpawnAppServerOptions {
  /** The app's configuration (DATABASE_URL, UPSTASH_REDIS_REST_URL, …). Only PATH, HOME and TMPDIR are inherited. */
  env: Record<string, string>;
  port?: number;
  /** How long to wait for the `{"url"}` line. Default 30 s. */
  startTimeoutMs?: number;
}

export interface SpawnedAppServer {
  url: string;
  pid: number;
  child: ChildProcess;
  /** Everything the process wrote so far (stdout and stderr), for diagnosing a failure. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs` (default 8 s); resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `e2e/support/app-server.ts` as a child process (node with tsx's loader and the
 * `react-server` condition, the equivalent of `npx tsx --conditions react-server …` in one
 * process) and resolves once it listens.
 */
export async function spawnAppServer(options: SpawnAppServerOptions): Promise<SpawnedAppServer> {
  const inherited: Record<string, string> = {};
  for (const key of ["PATH", "HOME", "TMPDIR", "LANG", "SYSTEMROOT"]) {
    const value = process.env[key];
    if (value !== undefined) inherited[key] = value;
  }
  const env: Record<string, string> = { ...inherited, LOG_LEVEL: "warn", ...options.env, PORT: String(options.port ?? 0) };
  const child = spawn(process.execPath, ["--conditions", "react-server", "--import", "tsx", THIS_FILE], {
    cwd: REPO_ROOT,
    // NODE_ENV is the caller's to set (lib/env.ts defaults it); the cast only satisfies Next's
    // global typing of process.env, which declares NODE_ENV as always present.
    env: env as unknown as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<void>((resolveExit) => child.once("exit", () => resolveExit()));
  const stop = async (graceMs = 8_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  };

  const url = await new Promise<string>((resolveUrl, reject) => {
    let buffered = "";
    const timer = setTimeout(() => fail(new Error(`app-server did not start within ${options.startTimeoutMs ?? 30_000} ms`)), options.startTimeoutMs ?? 30_000);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      reject(new Error(`${error.message}\n--- app-server output ---\n${output}`));
    };
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
      buffered += chunk.toString("utf8");
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (!line.startsWith("{")) continue;
        try {
          const parsed = JSON.parse(line) as Record<string, unknown>;
          if (typeof parsed.url === "string" && !("level" in parsed)) {
            clearTimeout(timer);
            resolveUrl(parsed.url);
            return;
          }
        } catch {
          // not ours
        }
      }
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    child.once("error", fail);
    child.once("exit", (code, signal) => fail(new Error(`app-server exited before listening (code ${code}, signal ${signal})`)));
  }).catch(async (error: unknown) => {
    await stop(1_000);
    throw error;
  });

  return { url, pid: child.pid!, child, output: () => output, stop };
}

/* ------------------------------------------------------------------ standalone */

async function main(): Promise<void> {
  const port = portFromEnv();
  const app = await startAppServer({ port, host: process.env.HOST || undefined });
  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      await app.close();
      // Buffered generation records and events: written, but never waited on for long.
      const { getRecordWriter } = await import("@/lib/events");
      await Promise.race([getRecordWriter().close(), new Promise((r) => setTimeout(r, 3_000).unref())]);
      process.exit(0);
    })();
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
  process.stdout.write(`${JSON.stringify({ url: app.url })}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`app-server: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
