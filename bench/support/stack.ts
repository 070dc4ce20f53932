/**
 * What `npm run bench` and `npm run soak` run against: the production server (`node
 * scripts/start.mjs` on the build in NEXT_DIST_DIR) on fresh stores, the fake OpenAI server,
 * and the bare app's standalone server.
 *
 * - embedded: PGlite in a fresh temporary directory and the in-memory store (no DATABASE_URL,
 *   no UPSTASH_*), both removed afterwards;
 * - real: a fresh PostgreSQL database (TEST_DATABASE_URL, default the local server; migrated,
 *   dropped afterwards) and Redis (TEST_REDIS_URL, default the local one) behind the Upstash
 *   REST test server under a fresh key prefix (its keys deleted afterwards).
 *
 * The server trusts one proxy hop (TRUST_PROXY_HEADER=x-forwarded-for, TRUST_PROXY_HOPS=1), so
 * each request's X-Forwarded-For is its client; daily quotas are at their maximum and the
 * per-user burst limits high, so neither answers 429 during a run.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startFakeOpenAI, type FakeOpenAIServer } from "@/e2e/support/fake-openai";
import { openTestDb } from "@/e2e/support/harness/stores-db";
import { openTestKv } from "@/e2e/support/harness/stores-kv";
import type { UpstashRestServer } from "@/e2e/support/upstash-rest-server";
import { BARE_SERVER, REPO_ROOT } from "./build";

export type StoreMode = "embedded" | "real";

export interface Stack {
  mode: StoreMode;
  fake: FakeOpenAIServer;
  /** The Upstash REST test server (real mode). */
  rest?: UpstashRestServer;
  /** The app's configuration for these stores and this fake model (no PORT). */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** Limits high enough that no quota or burst limit answers 429 in a run. */
const NO_LIMITS = {
  GUEST_DAILY_LIMIT: "1000000",
  USER_DAILY_LIMIT: "1000000",
  PRO_DAILY_LIMIT: "1000000",
  // Per user (the signed-in phases are one user each); guests rotate addresses instead.
  RATE_LIMIT_GENERATE_PER_MIN: "100000",
  RATE_LIMIT_API_PER_MIN: "100000",
};

export async function openStack(mode: StoreMode): Promise<Stack> {
  const cleanups: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => console.error("bench: cleanup failed:", error));
  };
  try {
    const fake = await startFakeOpenAI();
    cleanups.push(() => fake.close());
    const env: Record<string, string> = {
      LOG_LEVEL: "warn",
      OPENAI_API_KEY: "sk-test",
      OPENAI_BASE_URL: `${fake.url}/v1`,
      AUTH_SECRET: randomBytes(32).toString("hex"),
      TRUST_PROXY_HEADER: "x-forwarded-for",
      TRUST_PROXY_HOPS: "1",
      ...NO_LIMITS,
    };
    let rest: UpstashRestServer | undefined;
    if (mode === "real") {
      process.env.TEST_DATABASE_URL ||= "postgres://postgres@127.0.0.1:5432/postgres";
      process.env.TEST_REDIS_URL ||= "redis://127.0.0.1:6379";
      const db = await openTestDb();
      cleanups.push(() => db.cleanup());
      const kv = await openTestKv();
      cleanups.push(() => kv.cleanup());
      rest = kv.rest;
      if (!db.url || !rest) throw new Error("the real stores did not open");
      Object.assign(env, { DATABASE_URL: db.url, UPSTASH_REDIS_REST_URL: rest.url, UPSTASH_REDIS_REST_TOKEN: rest.token, REDIS_KEY_PREFIX: kv.prefix });
    } else {
      const dataDir = mkdtempSync(path.join(tmpdir(), "litstatus-bench-pglite-"));
      cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
      // Empty values, not absent ones: a developer's .env (loaded by start.mjs) must not add stores.
      Object.assign(env, { PGLITE_DATA_DIR: dataDir, DATABASE_URL: "", UPSTASH_REDIS_REST_URL: "", UPSTASH_REDIS_REST_TOKEN: "" });
    }
    return { mode, fake, rest, env, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** `--env KEY=VALUE` flags (extra server environment) as a record. */
export function envPairs(pairs: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf("=");
      if (at < 1) throw new Error(`--env wants KEY=VALUE, got ${pair}`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface ServerProcess {
  name: string;
  url: string;
  pid: number;
  child: ChildProcess;
  /** Everything it wrote (stdout and stderr), for sign-in links and diagnosis. */
  output(): string;
  /** Whether it exited (it should not, before stop()). */
  exited(): boolean;
  /** Its log lines at warn or above (a Redis fallback, a fail-open limiter, a failed write…), client disconnects aside. */
  warnings(): string[];
  stop(): Promise<void>;
}

/** Starts a Node server process and waits until GET /api/health answers 200. */
async function startServer(name: string, args: string[], env: Record<string, string>, options: { cwd: string; nodeArgs?: string[] }): Promise<ServerProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? tmpdir(), NEXT_TELEMETRY_DISABLED: "1", ...env, PORT: String(port), HOSTNAME: "127.0.0.1" } as unknown as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  // Keep the start and the latest output: a long run must not hold every log line.
  const append = (chunk: Buffer) => {
    output += chunk.toString("utf8");
    if (output.length > 2_000_000) output = `${output.slice(0, 200_000)}\n…\n${output.slice(-1_000_000)}`;
  };
  child.stdout.on("data", append);
  child.stderr.on("data", append);
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const stop = async () => {
    if (exited()) return;
    const gone = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await gone;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (exited()) throw new Error(`${name} exited during start-up (code ${child.exitCode}, signal ${child.signalCode}):\n${output}`);
    const res = await fetch(`${url}/api/health`).catch(() => null);
    if (res) await res.arrayBuffer();
    if (res?.status === 200) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} did not answer /api/health within 90 s:\n${output}`);
    }
    await sleep(200);
  }
  if (child.pid === undefined) throw new Error(`${name} has no pid`);
  // A request cut off because wrk closed its connection at the end of a run is not a warning.
  const clientGone = (line: string) => line.includes('"message":"aborted"') && line.includes('"code":"ECONNRESET"');
  const warnings = () => output.split("\n").filter((line) => /^\{.*"level":"(warn|error|fatal)"/.test(line) && !clientGone(line));
  return { name, url, pid: child.pid, child, output: () => output, exited, warnings, stop };
}

/** `node scripts/start.mjs` on the build in `distDir`, with the stack's configuration. */
export function startAppServer(stack: Stack, options: { distDir: string; debug?: boolean; nodeArgs?: string[]; name?: string }): Promise<ServerProcess> {
  const env = { ...stack.env, NEXT_DIST_DIR: options.distDir, ...(options.debug ? { DEBUG: "litstatus:*" } : {}) };
  return startServer(options.name ?? (options.debug ? "app (debug)" : "app"), [path.join(REPO_ROOT, "scripts", "start.mjs")], env, { cwd: REPO_ROOT, nodeArgs: options.nodeArgs });
}

/**
 * The bare app's standalone server.js, started the way start.mjs starts the app's; its model
 * route (the control for misses) calls the stack's fake OpenAI.
 */
export function startBareServer(stack: Pick<Stack, "fake">, nodeArgs: string[] = []): Promise<ServerProcess> {
  const env = { NODE_ENV: "production", OPENAI_BASE_URL: `${stack.fake.url}/v1` };
  return startServer("bare", [BARE_SERVER], env, { cwd: path.dirname(BARE_SERVER), nodeArgs });
}

/**
 * Signs a user in through the app's own embedded sign-in: POST /api/auth/local/start, the
 * one-time link from the server's log (it is logged at info, so the server must log at info or
 * debug), then the callback, whose Set-Cookie is the session. Returns the Cookie header value.
 */
export async function signIn(server: ServerProcess, email: string, address: string): Promise<string> {
  const res = await fetch(`${server.url}/api/auth/local/start`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": address },
    body: JSON.stringify({ email }),
  });
  if (res.status !== 200) throw new Error(`sign-in start answered ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
  let link: string | undefined;
  const deadline = Date.now() + 10_000;
  while (!link) {
    const line = server
      .output()
      .split("\n")
      .findLast((l) => l.includes("local sign-in link") && l.includes(email));
    link = line ? ((JSON.parse(line) as { link?: string }).link ?? undefined) : undefined;
    if (!link) {
      if (Date.now() > deadline) throw new Error(`no sign-in link for ${email} in the ${server.name} log`);
      await sleep(50);
    }
  }
  const callback = new URL(link);
  const answer = await fetch(`${server.url}${callback.pathname}${callback.search}`, { redirect: "manual", headers: { "x-forwarded-for": address } });
  await answer.arrayBuffer();
  const cookie = answer.headers.getSetCookie().find((c) => c.startsWith("ls_session="));
  if (answer.status !== 303 || !cookie) throw new Error(`sign-in callback answered ${answer.status} without a session cookie`);
  return cookie.split(";")[0]!;
}
