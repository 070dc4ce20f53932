import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { connect, createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "@playwright/test";

/**
 * Client identity (PRODUCT §6) against the real servers: each test spawns the production
 * server the way `npm start` runs it (scripts/start.mjs → the standalone build, so run
 * `npm run build` first), or `npm run dev` (scripts/dev.mjs), with its own TRUST_PROXY_HEADER,
 * its own embedded database, no OpenAI key (the offline provider) and burst limits out of the
 * way, then spends guest quotas (3 a day) with forged and forwarded headers. The access log's
 * `ip` shows who the app thought the client was. No browser is involved.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const GUEST_LIMIT = 3;
// Made on first use: Playwright also loads this file just to list its tests.
let tmpRoot: string | undefined;
const tmp = (): string => (tmpRoot ??= mkdtempSync(path.join(tmpdir(), "litstatus-identity-")));

interface Server {
  url: string;
  child: ChildProcess;
  output(): string;
  /** The `ip` of every access-log line, in order. */
  loggedIps(): (string | null)[];
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Only what the app needs: nothing from the caller's environment leaks in. */
function appEnv(name: string, port: number, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? tmp(),
    NEXT_TELEMETRY_DISABLED: "1",
    PORT: String(port),
    HOSTNAME: "127.0.0.1",
    PGLITE_DATA_DIR: path.join(tmp(), name, "pglite"),
    AUTH_SECRET: "identity-test-signing-secret-0123456789abcdef",
    LOG_LEVEL: "info",
    GUEST_DAILY_LIMIT: String(GUEST_LIMIT),
    RATE_LIMIT_GENERATE_PER_MIN: "100000",
    RATE_LIMIT_API_PER_MIN: "100000",
    RATE_LIMIT_SIGNIN_PER_MIN: "100000",
    ...extra,
  };
  return env as unknown as NodeJS.ProcessEnv;
}

function track(child: ChildProcess): { output: () => string; exited: Promise<number | null> } {
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { output: () => output, exited };
}

/** Whether something accepts TCP connections on the port. */
const listening = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

/**
 * Spawns a server and waits until it is up: /api/health answers (`health`), or the port
 * accepts connections (the dev server then compiles the first route a test asks for).
 */
async function startServer(name: string, args: string[], extra: Record<string, string>, timeoutMs: number, ready: "health" | "port" = "health"): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, args, { cwd: ROOT, env: appEnv(name, port, extra), stdio: ["ignore", "pipe", "pipe"] });
  const { output, exited } = track(child);
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 8_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}) before answering:\n${output()}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} was not ready (${ready}) within ${timeoutMs} ms:\n${output()}`);
    }
    if (ready === "port" ? await listening(port) : await fetch(`${url}/api/health`).then((r) => r.ok, () => false)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const loggedIps = (): (string | null)[] =>
    output()
      .split("\n")
      .filter((line) => line.startsWith("{") && line.includes('"path":"/api/generate"'))
      .map((line) => (JSON.parse(line) as { ip: string | null }).ip);
  return { url, child, output, loggedIps, stop };
}

// Three start at once, each opening its own embedded database: generous on a loaded machine.
const startProduction = (name: string, extra: Record<string, string>) => startServer(name, ["scripts/start.mjs"], extra, 100_000);

let seq = 0;
/** One guest caption request; the answer's status and error code. */
async function generate(server: Server, headers: Record<string, string> = {}): Promise<string> {
  seq += 1;
  const res = await fetch(`${server.url}/api/generate`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ text: `identity check ${seq}`, mode: "standard", lang: "en" }),
  });
  const body = (await res.json()) as { error?: { code: string } };
  return res.status === 200 ? "200" : `${res.status} ${body.error?.code ?? "?"}`;
}

const SPENT = [...Array<string>(GUEST_LIMIT).fill("200"), "429 quota_exceeded"];
const forgedPeer = (i: number) => ({ "x-litstatus-peer": `10.66.0.${i}`, "x-forwarded-for": `10.99.0.${i}` });

test.describe("client identity on the production server", () => {
  test.describe.configure({ timeout: 150_000 });
  let direct: Server, proxied: Server, cloudflare: Server;

  test.beforeAll(async () => {
    test.setTimeout(150_000);
    if (!existsSync(path.join(ROOT, ".next/standalone/server.js"))) throw new Error("no production build: run npm run build first");
    [direct, proxied, cloudflare] = await Promise.all([
      startProduction("none", {}), // the default: TRUST_PROXY_HEADER unset
      startProduction("xff", { TRUST_PROXY_HEADER: "x-forwarded-for", TRUST_PROXY_HOPS: "1" }),
      startProduction("cf", { TRUST_PROXY_HEADER: "cf-connecting-ip" }),
    ]);
  });

  test.afterAll(async () => {
    await Promise.all([direct, proxied, cloudflare].map((s) => s?.stop()));
  });

  test("none (default): 10 requests from one peer with 10 different X-Forwarded-For spend one guest quota", async () => {
    const statuses: string[] = [];
    for (let i = 1; i <= 10; i++) statuses.push(await generate(direct, forgedPeer(i)));
    expect(statuses).toEqual([...SPENT.slice(0, GUEST_LIMIT), ...Array<string>(10 - GUEST_LIMIT).fill("429 quota_exceeded")]);
    // Nor does Cloudflare's header pick a new client when it is not configured.
    expect(await generate(direct, { "cf-connecting-ip": "198.51.100.77" })).toBe("429 quota_exceeded");
    // The forged peer header was replaced by the socket's address on every request.
    expect(new Set(direct.loggedIps())).toEqual(new Set(["127.0.0.1"]));
  });

  test("x-forwarded-for with hops 1: each forwarded client has its own quota; spoofed left entries change nothing", async () => {
    const clients = ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"];
    const answers = await Promise.all(
      clients.map(async (client, k) => {
        const statuses: string[] = [];
        // What a client wrote arrives left of what our proxy appended: a new spoof every time.
        for (let i = 0; i < GUEST_LIMIT; i++) statuses.push(await generate(proxied, { "x-forwarded-for": `10.${k}.${i}.1, ${client}`, "x-litstatus-peer": "10.66.6.6" }));
        return statuses;
      }),
    );
    expect(answers).toEqual(clients.map(() => SPENT.slice(0, GUEST_LIMIT)));
    for (const client of clients) {
      expect(await generate(proxied, { "x-forwarded-for": `203.0.113.250, ${client}` })).toBe("429 quota_exceeded");
    }
    // No header: the peer (our proxy, here the test) is the client.
    const peer: string[] = [];
    for (let i = 0; i <= GUEST_LIMIT; i++) peer.push(await generate(proxied));
    expect(peer).toEqual(SPENT);
    expect(new Set(proxied.loggedIps())).toEqual(new Set([...clients, "127.0.0.1"]));
  });

  test("cf-connecting-ip: Cloudflare's header decides when configured; absent, the peer does", async () => {
    const viaCloudflare = async (ip: string) => {
      const statuses: string[] = [];
      for (let i = 0; i <= GUEST_LIMIT; i++) statuses.push(await generate(cloudflare, { "cf-connecting-ip": ip, "x-forwarded-for": `10.0.0.${i}` }));
      return statuses;
    };
    expect(await viaCloudflare("2001:db8::7")).toEqual(SPENT);
    expect(await viaCloudflare("198.51.100.9")).toEqual(SPENT);
    const fromPeer: string[] = [];
    for (let i = 1; i <= GUEST_LIMIT + 1; i++) fromPeer.push(await generate(cloudflare, forgedPeer(i)));
    expect(fromPeer).toEqual(SPENT);
    expect(new Set(cloudflare.loggedIps())).toEqual(new Set(["2001:db8::7", "198.51.100.9", "127.0.0.1"]));
  });
});

test("npm run dev: the peer-address layer stamps the very first request", async () => {
  test.setTimeout(120_000);
  const started = Date.now();
  // The first generate is sent as soon as the port opens: the layer must already be there.
  const dev = await startServer("dev", ["scripts/dev.mjs", "-H", "127.0.0.1"], { NODE_ENV: "development" }, 90_000, "port");
  try {
    const statuses: string[] = [];
    for (let i = 1; i <= GUEST_LIMIT + 1; i++) statuses.push(await generate(dev, forgedPeer(i)));
    expect(statuses).toEqual(SPENT);
    expect(dev.loggedIps()).toEqual(statuses.map(() => "127.0.0.1"));
    test.info().annotations.push({ type: "dev server", description: `answered in ${Date.now() - started} ms` });
  } finally {
    await dev.stop();
  }
});

/** Whether any root .env file sets AUTH_SECRET (start.mjs would load it, as Next does). */
function envFileSetsAuthSecret(): boolean {
  return readdirSync(ROOT)
    .filter((f) => f.startsWith(".env") && f !== ".env.example")
    .some((f) => /^\s*AUTH_SECRET\s*=\s*\S/m.test(readFileSync(path.join(ROOT, f), "utf8")));
}

test("a production start without AUTH_SECRET stops before listening, with one line naming it", async () => {
  test.skip(envFileSetsAuthSecret(), "a local .env file sets AUTH_SECRET");
  const port = await freePort();
  const env = appEnv("no-secret", port, {});
  delete env.AUTH_SECRET;
  const child = spawn(process.execPath, ["scripts/start.mjs"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  // Knock on the port until the process is gone: no connection may ever be accepted.
  let accepted = 0;
  let attempts = 0;
  let done = false;
  void exited.then(() => (done = true));
  while (!done) {
    attempts += 1;
    if (await listening(port)) accepted += 1;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const code = await exited;
  expect(code).not.toBe(0);
  const lines = stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^litstatus: .*AUTH_SECRET/);
  expect(attempts).toBeGreaterThan(0);
  expect(accepted).toBe(0);
});

test.afterAll(() => {
  if (tmpRoot) rmSync(tmpRoot, { recursive: true, force: true });
});
