/**
 * deploy/nginx.conf for real (issue 11, item 1): Debian's nginx, running the very template in
 * this folder (rendered with `envsubst`, as the official image does), in front of two
 * production servers (`node scripts/start.mjs` on the standalone build) that share PostgreSQL
 * and Redis (through the Upstash-REST test server). Every request below goes through nginx;
 * the client address is chosen by connecting from different loopback addresses (Linux routes
 * all of 127/8 to lo), so nginx's $remote_addr is a real, distinct peer for each "client".
 *
 * Checked, with the bounds stated where they are asserted:
 *   1. distinct client addresses get distinct guest quotas, shared by both instances;
 *   2. a client's own X-Forwarded-For changes nothing;
 *   3. the in-flight cap holds across both instances (the fake model's peak concurrency);
 *   4. a blocklist entry added on one instance is enforced by the other within 1 s;
 *   5. SSE through nginx is not buffered (the first delta arrives before the model finishes);
 *   6. SIGKILL of one instance mid-load: a 5xx or a cut answer only for requests in flight on it at the kill,
 *      every later request 200;
 *   7. with both instances down, nginx answers our 502 page / JSON envelope, not its default.
 *
 * Real stores only: skipped in the embedded run (no TEST_DATABASE_URL / TEST_REDIS_URL) and when
 * no `nginx` binary is installed (CI installs Debian's `nginx`; the real-store run counts a skip
 * as a failure). A missing production build fails the suite: CI builds before this run.
 * Ports: nginx 5800, instances 5801 and 5802, the fake OpenAI 5803.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeOpenAI, type FakeOpenAIServer } from "@/e2e/support/fake-openai";
import { realStoreServerEnv, TEST_AUTH_SECRET } from "@/e2e/support/harness/app-harness";
import { openTestDb, type TestDb } from "@/e2e/support/harness/stores-db";
import { openTestKv, type TestKv } from "@/e2e/support/harness/stores-kv";
import { signSessionToken } from "@/lib/auth/tokens";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const TEMPLATE = path.join(ROOT, "deploy", "nginx.conf");
const STANDALONE_SERVER = path.join(ROOT, ".next", "standalone", "server.js");
const PLACEHOLDERS = ["LITSTATUS_PROXY_LISTEN", "LITSTATUS_UPSTREAM_1", "LITSTATUS_UPSTREAM_2", "LITSTATUS_ERROR_PAGES"];

const PROXY_PORT = 5800;
const APP_PORTS = [5801, 5802] as const;
const FAKE_PORT = 5803;
const GUEST_LIMIT = 2;
const MAX_INFLIGHT = 2;
const QUEUE_TIMEOUT_MS = 500;

/** An executable on PATH or in the sbin folders (nginx lives in /usr/sbin), or null. */
function findBinary(name: string): string | null {
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter), "/usr/sbin", "/usr/local/sbin", "/sbin"];
  for (const dir of dirs) {
    const file = path.join(dir, name);
    if (dir !== "" && existsSync(file)) return file;
  }
  return null;
}

const real = Boolean(process.env.TEST_DATABASE_URL && process.env.TEST_REDIS_URL);
const NGINX = findBinary("nginx");
const ENVSUBST = findBinary("envsubst");
const skipReason = !real
  ? "real stores only: TEST_DATABASE_URL and TEST_REDIS_URL are not set"
  : !NGINX
    ? "no nginx binary (apt-get install nginx; CI installs it)"
    : null;

/** The template with our placeholders filled in by envsubst, limited to them (like NGINX_ENVSUBST_FILTER). */
function renderTemplate(values: Record<string, string>): string {
  if (!ENVSUBST) throw new Error("envsubst is missing (Debian package gettext-base)");
  const run = spawnSync(ENVSUBST, [PLACEHOLDERS.map((name) => `\${${name}}`).join(" ")], {
    input: readFileSync(TEMPLATE, "utf8"),
    // Only the placeholders' values (Next's typing of process.env wants NODE_ENV; envsubst does not).
    env: { PATH: process.env.PATH ?? "", ...values } as unknown as NodeJS.ProcessEnv,
    encoding: "utf8",
  });
  if (run.status !== 0) throw new Error(`envsubst failed: ${run.stderr}`);
  return run.stdout;
}

describe("deploy/nginx.conf: the template", () => {
  const text = readFileSync(TEMPLATE, "utf8");
  const directives = text.replace(/#.*$/gm, "");

  it("has exactly the documented placeholders, and nginx's own variables survive envsubst", () => {
    expect(new Set([...directives.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]))).toEqual(new Set(PLACEHOLDERS));
    const rendered = renderTemplate({ LITSTATUS_PROXY_LISTEN: "80", LITSTATUS_UPSTREAM_1: "a:3000", LITSTATUS_UPSTREAM_2: "b:3000", LITSTATUS_ERROR_PAGES: "/srv" });
    expect(rendered).not.toMatch(/\$\{/);
    for (const variable of ["$remote_addr", "$http_host", "$request_id", "$scheme"]) expect(rendered).toContain(variable);
    expect(rendered).toMatch(/server a:3000 max_fails=\d+ fail_timeout=\d+s;/);
    expect(rendered).toContain("alias /srv/502.html;");
  });

  it("overwrites X-Forwarded-For, never retries a delivered POST, takes 5 MB images", () => {
    expect(directives).toMatch(/proxy_set_header X-Forwarded-For \$remote_addr;/);
    expect(directives).not.toContain("$proxy_add_x_forwarded_for");
    expect(directives).toMatch(/proxy_next_upstream error timeout;/);
    expect(directives).not.toMatch(/non_idempotent|http_50[234]/);
    expect(directives).toMatch(/client_max_body_size 6m;/);
    expect(directives).toMatch(/server_tokens off;/);
  });
});

/* ------------------------------------------------------------------ processes */

interface Proc {
  name: string;
  child: ChildProcess;
  output(): string;
  exited: Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

function track(name: string, child: ChildProcess): Proc {
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async (signal: NodeJS.Signals = "SIGTERM"): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), 8_000);
    await exited;
    clearTimeout(timer);
  };
  return { name, child, output: () => output, exited, stop };
}

async function waitFor(what: string, proc: Proc, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null) throw new Error(`${what} exited (${proc.child.exitCode}):\n${proc.output()}`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${timeoutMs} ms:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/* ------------------------------------------------------------------ HTTP through nginx */

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  requestId: string;
  /** performance.now() when the request was sent / the answer ended. */
  startedAt: number;
  endedAt: number;
}

interface SendOptions {
  /** The client's address: the local end of the TCP connection (127.x.y.z). */
  from: string;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  json?: unknown;
  port?: number;
  agent?: http.Agent;
  /** Each chunk of the body as it arrives (Date.now() at arrival). */
  onChunk?: (text: string, atEpochMs: number) => void;
}

function send(options: SendOptions): Promise<Answer> {
  const body = options.json === undefined ? undefined : JSON.stringify(options.json);
  const headers: Record<string, string> = { ...options.headers };
  if (body !== undefined) headers["content-type"] ??= "application/json";
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port: options.port ?? PROXY_PORT,
        method: options.method ?? "GET",
        path: options.path,
        headers,
        localAddress: options.from,
        agent: options.agent ?? false,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
          options.onChunk?.(chunk, Date.now());
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text,
            requestId: String(res.headers["x-request-id"] ?? ""),
            startedAt,
            endedAt: performance.now(),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const errorCode = (answer: Answer): string | undefined => {
  try {
    return (JSON.parse(answer.body) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
};
/** "200", or "429 quota_exceeded". */
const outcome = (answer: Answer): string => (answer.status === 200 ? "200" : `${answer.status} ${errorCode(answer) ?? "?"}`);

let textSeq = 0;
const caption = (from: string, extra: Partial<SendOptions> = {}, text = `nginx check ${++textSeq}`) =>
  send({ from, method: "POST", path: "/api/generate", json: { text, mode: "standard", lang: "en" }, ...extra });

interface AccessLine {
  request_id: string;
  remote_addr: string;
  method: string;
  uri: string;
  status: number;
  upstream_addr: string;
  upstream_status: string;
}

/* ------------------------------------------------------------------ the suite */

describe.skipIf(skipReason !== null)(`nginx in front of two production instances${skipReason ? ` (skipped: ${skipReason})` : ""}`, () => {
  let fake: FakeOpenAIServer;
  let kv: TestKv;
  let db: TestDb;
  let apps: Proc[] = [];
  let nginx: Proc | undefined;
  let workDir: string;
  const accessLogFile = () => path.join(workDir, "access.log");
  let adminToken: string;
  const upstream = APP_PORTS.map((port) => `127.0.0.1:${port}`);

  /** nginx's access log (its stdout): one JSON line per request. */
  const accessLog = (): AccessLine[] =>
    (existsSync(accessLogFile()) ? readFileSync(accessLogFile(), "utf8") : "")
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as AccessLine);

  /** For failure messages: the instances' warnings about Redis (a fallback breaks the shared store). */
  const kvTrouble = (): string => {
    const lines = apps.flatMap((app) => app.output().split("\n").filter((l) => l.includes('"ns":"litstatus:kv"')).map((l) => `${app.name}: ${l.slice(0, 300)}`));
    return lines.length === 0 ? "no Redis warnings from the instances" : `Redis trouble on the instances:\n${lines.join("\n")}`;
  };

  /** The access-log lines of these answers (waits until nginx has written them all). */
  async function logged(answers: Answer[]): Promise<Map<string, AccessLine>> {
    const wanted = new Set(answers.map((a) => a.requestId));
    const deadline = Date.now() + 3_000;
    for (;;) {
      const lines = new Map(accessLog().filter((l) => wanted.has(l.request_id)).map((l) => [l.request_id, l]));
      if (lines.size === wanted.size || Date.now() > deadline) return lines;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The instance answers and is on Redis, not on its in-memory fallback (readiness says `warn` then). */
  async function onRedis(port: number): Promise<boolean> {
    const ready = await send({ from: "127.0.0.1", path: "/api/health/ready", port });
    const checks = (JSON.parse(ready.body) as { checks?: { redis?: { status?: string; observedValue?: string } } }).checks;
    return checks?.redis?.status === "pass" && checks.redis.observedValue === "upstash";
  }

  /**
   * Before checking shared state: a few store round trips through nginx on both instances, then
   * both on Redis. An instance idle for a while can meet a stale keep-alive connection to the
   * Upstash REST test server on its next round trip and serve from its fallback for 5 s; that is
   * the test harness, not the proxy, so it is waited out here rather than counted.
   */
  async function settle(): Promise<void> {
    for (let i = 0; i < 4; i++) await send({ from: "127.0.0.1", path: "/api/quota" });
    for (const [i, app] of apps.entries()) await waitFor(app.name, app, () => onRedis(APP_PORTS[i]!), 15_000);
  }

  async function startApp(index: number, env: Record<string, string>): Promise<Proc> {
    const port = APP_PORTS[index]!;
    const child = spawn(process.execPath, ["scripts/start.mjs"], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? workDir, NEXT_TELEMETRY_DISABLED: "1", ...env, PORT: String(port), HOSTNAME: "127.0.0.1" } as unknown as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const proc = track(`instance ${"AB"[index]}`, child);
    await waitFor(proc.name, proc, () => onRedis(port), 90_000);
    return proc;
  }

  beforeAll(async () => {
    if (!existsSync(STANDALONE_SERVER)) throw new Error(`no production build at ${STANDALONE_SERVER}: run npm run build first (CI builds before the real-store suite)`);
    workDir = mkdtempSync(path.join(tmpdir(), "litstatus-nginx-"));
    fake = await startFakeOpenAI({ port: FAKE_PORT });
    kv = await openTestKv();
    db = await openTestDb();
    const email = `nginx-admin-${Date.now().toString(36)}@example.test`;
    const [row] = await db.db.query<{ id: string }>(`insert into auth.users (email) values ($1) returning id`, [email]);
    await db.db.query(`update litstatus.profiles set role = 'admin' where user_id = $1`, [row!.id]);
    adminToken = await signSessionToken({ sub: row!.id, email }, TEST_AUTH_SECRET, 3600);

    const env = {
      ...realStoreServerEnv({ db, kv, fake }),
      TRUST_PROXY_HEADER: "x-forwarded-for",
      TRUST_PROXY_HOPS: "1",
      GUEST_DAILY_LIMIT: String(GUEST_LIMIT),
      GEN_MAX_INFLIGHT: String(MAX_INFLIGHT),
      GEN_QUEUE_TIMEOUT_MS: String(QUEUE_TIMEOUT_MS),
      MODERATION: "off",
      HEALTH_CACHE_MS: "0",
      // This suite checks the proxy, not Redis timeouts: on a busy CI machine a round trip slower
      // than 5 s would switch an instance to its in-memory fallback and split the shared state.
      REDIS_TIMEOUT_MS: "15000",
    };
    apps = await Promise.all([startApp(0, env), startApp(1, env)]);

    const conf = path.join(workDir, "nginx.conf");
    writeFileSync(
      conf,
      renderTemplate({
        LITSTATUS_PROXY_LISTEN: `127.0.0.1:${PROXY_PORT}`,
        LITSTATUS_UPSTREAM_1: upstream[0]!,
        LITSTATUS_UPSTREAM_2: upstream[1]!,
        LITSTATUS_ERROR_PAGES: path.join(ROOT, "deploy"),
      }),
    );
    // pid and (as root) the worker user come from the command line: the template leaves them to
    // whoever runs it. Temp files go under the prefix (-p), the work dir.
    const globals = [`daemon off;`, `pid ${path.join(workDir, "nginx.pid")};`, ...(process.getuid?.() === 0 ? [`user ${userInfo().username};`] : [])];
    // Its stdout (the access log, /dev/stdout in the template) is a file opened for appending:
    // nginx re-opens /dev/stdout, which works for a pipe, a terminal or a file, not a socket.
    const stdout = openSync(accessLogFile(), "a");
    const child = spawn(NGINX!, ["-p", `${workDir}/`, "-c", conf, "-e", "stderr", "-g", globals.join(" ")], { stdio: ["ignore", stdout, "pipe"] });
    closeSync(stdout);
    nginx = track("nginx", child);
    await waitFor("nginx", nginx, async () => (await send({ from: "127.0.0.1", path: "/api/health" })).status === 200, 15_000);
    await settle();
  }, 180_000);

  afterAll(async () => {
    await nginx?.stop("SIGQUIT");
    await Promise.all(apps.map((app) => app.stop()));
    await fake?.close();
    await kv?.cleanup();
    await db?.cleanup();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  }, 60_000);

  it("distinct client addresses get distinct guest quotas, one count across both instances", async () => {
    const spent = [...Array<string>(GUEST_LIMIT).fill("200"), "429 quota_exceeded"];
    const answers: Answer[] = [];
    for (const client of ["127.0.0.2", "127.0.0.3"]) {
      const mine: Answer[] = [];
      for (let i = 0; i <= GUEST_LIMIT; i++) mine.push(await caption(client));
      expect(mine.map(outcome), kvTrouble()).toEqual(spent);
      // The count is the client's own, and the same on both instances: 1, 2, … whoever served it.
      expect(mine.slice(0, GUEST_LIMIT).map((a) => (JSON.parse(a.body) as { quota: { used: number } }).quota.used)).toEqual([1, 2]);
      answers.push(...mine);
    }
    const lines = await logged(answers);
    expect(new Set([...lines.values()].map((l) => l.remote_addr))).toEqual(new Set(["127.0.0.2", "127.0.0.3"]));
    // Round robin: both instances took part, so the quota really is shared, not per process.
    expect(new Set([...lines.values()].map((l) => l.upstream_addr))).toEqual(new Set(upstream));
    console.log(`nginx quotas: 127.0.0.2 ${answers.slice(0, 3).map(outcome).join(", ")}; 127.0.0.3 ${answers.slice(3).map(outcome).join(", ")}; upstreams ${[...lines.values()].map((l) => l.upstream_addr.slice(-4)).join(" ")}`);
  });

  it("a client's own X-Forwarded-For changes nothing", async () => {
    // The spent client claims other addresses: still its own (spent) quota.
    for (const claimed of ["198.51.100.7", "127.0.0.9", "10.0.0.1, 198.51.100.8"]) {
      expect(outcome(await caption("127.0.0.2", { headers: { "x-forwarded-for": claimed } })), kvTrouble()).toBe("429 quota_exceeded");
    }
    // A fresh client claiming to be the spent one still has its own, fresh quota …
    const fresh = await caption("127.0.0.4", { headers: { "x-forwarded-for": "127.0.0.2" } });
    expect(outcome(fresh)).toBe("200");
    expect((JSON.parse(fresh.body) as { quota: { used: number } }).quota.used).toBe(1);
    // … and a new spoof on every request mints nothing.
    const rotating: string[] = [];
    for (let i = 0; i <= GUEST_LIMIT; i++) rotating.push(outcome(await caption("127.0.0.5", { headers: { "x-forwarded-for": `203.0.113.${i + 1}` } })));
    expect(rotating).toEqual([...Array<string>(GUEST_LIMIT).fill("200"), "429 quota_exceeded"]);
    const lines = await logged([fresh]);
    expect(lines.get(fresh.requestId)?.remote_addr).toBe("127.0.0.4");
  });

  it(`the in-flight cap (${MAX_INFLIGHT}) holds across both instances`, async () => {
    // 8 misses at once, from 8 clients, spread over both instances, each model call 2.5 s. The
    // cap is global: at most 2 model calls at once (a cap per instance would allow 4). A queued
    // request gives up after 0.5 s, long before a slot frees, so most are 503 busy (on an idle
    // machine exactly 6; under load a late arrival may still find a freed slot).
    await settle();
    fake.set({ latencyMs: 2_500 });
    fake.resetStats();
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => caption(`127.0.1.${i + 1}`)));
    const wallMs = performance.now() - started;
    fake.set({ latencyMs: 0 });
    const stats = fake.stats();
    const outcomes = answers.map(outcome);
    expect(stats.peakInFlight, kvTrouble()).toBe(MAX_INFLIGHT);
    const ok = outcomes.filter((o) => o === "200").length;
    const busy = outcomes.filter((o) => o === "503 busy").length;
    expect(ok + busy).toBe(8);
    expect(ok).toBeGreaterThanOrEqual(MAX_INFLIGHT);
    expect(busy).toBeGreaterThanOrEqual(4);
    expect(stats.chatCalls).toBe(ok);
    for (const busy of answers.filter((a) => a.status === 503)) expect(Number(busy.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    const lines = await logged(answers);
    expect(new Set([...lines.values()].map((l) => l.upstream_addr))).toEqual(new Set(upstream));
    console.log(`nginx cap: 8 concurrent misses → ${outcomes.join(", ")}; model peak in flight ${stats.peakInFlight}, calls ${stats.chatCalls}; ${Math.round(wallMs)} ms`);
  });

  it("a blocklist entry added on one instance is enforced through nginx by both within 1 s", async () => {
    await settle();
    const blocked = "127.0.0.30";
    const before = await send({ from: blocked, path: "/api/quota" });
    expect(before.status).toBe(200);
    // The admin write goes to instance A directly (one instance); the checks go through nginx.
    const add = await send({
      from: "127.0.0.1",
      port: APP_PORTS[0],
      method: "POST",
      path: "/api/admin/blocklist",
      headers: { authorization: `Bearer ${adminToken}` },
      json: { ip: blocked, reason: "nginx test", ttlSeconds: 600 },
    });
    expect(add.status).toBe(201);
    const addedAt = add.endedAt;
    const answers: Answer[] = [];
    // Poll through nginx for 1.5 s after the add, and on until 10 requests were sent after the 1 s mark.
    while (performance.now() - addedAt < 1_500 || answers.filter((a) => a.startedAt >= addedAt + 1_000).length < 10) {
      answers.push(await send({ from: blocked, path: "/api/quota" }));
      await new Promise((r) => setTimeout(r, 10));
    }
    const lines = await logged(answers);
    const onB = answers.filter((a) => lines.get(a.requestId)?.upstream_addr === upstream[1]);
    const firstRefusalOnB = onB.find((a) => a.status === 403);
    // PRODUCT §7: enforced on every instance within 1 s. From then on, every answer is 403.
    const late = answers.filter((a) => a.startedAt >= addedAt + 1_000);
    expect(new Set(late.map(outcome)), kvTrouble()).toEqual(new Set(["403 ip_blocked"]));
    expect(new Set(late.map((a) => lines.get(a.requestId)?.upstream_addr))).toEqual(new Set(upstream));
    expect(onB.filter((a) => a.status === 200 && a.startedAt >= addedAt + 1_000)).toHaveLength(0);
    expect(firstRefusalOnB).toBeDefined();
    // A bystander is untouched.
    expect((await send({ from: "127.0.0.31", path: "/api/quota" })).status).toBe(200);
    console.log(
      `nginx blocklist: ${answers.length} requests in ${Math.round(answers.at(-1)!.endedAt - addedAt)} ms after the add on A; B served ${onB.length}, ` +
        `its first 403 ${Math.round(firstRefusalOnB!.endedAt - addedAt)} ms after the add, 200s on B after the add: ${onB.filter((a) => a.status === 200).length}`,
    );
  });

  it("server-sent events pass through unbuffered: the first delta arrives before the model finishes", async () => {
    fake.set({ streamChunkDelayMs: 60 });
    const seen: { text: string; firstDeltaAt?: number } = { text: "" };
    const answer = await caption("127.0.0.50", {
      // As a browser asks: compressing the stream would hold deltas back in gzip's buffer.
      headers: { accept: "text/event-stream", "accept-encoding": "gzip, deflate, br" },
      onChunk: (text, at) => {
        seen.text += text;
        if (seen.firstDeltaAt === undefined && seen.text.includes("event: delta\n")) seen.firstDeltaAt = at;
      },
    });
    const firstDeltaAt = seen.firstDeltaAt;
    fake.set({ streamChunkDelayMs: 0 });
    const { lastStreamStartedAt, lastStreamEndedAt } = fake.stats();
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toMatch(/^text\/event-stream/);
    expect(answer.headers["content-encoding"]).toBeUndefined();
    expect(answer.body).toMatch(/event: done\n/);
    expect(firstDeltaAt).toBeDefined();
    const modelMs = lastStreamEndedAt! - lastStreamStartedAt!;
    // The model wrote for ≥ 0.4 s (its chunks 60 ms apart); the first delta must reach the client
    // at least 200 ms before the model's last chunk: a buffering proxy would send it after.
    expect(modelMs).toBeGreaterThanOrEqual(400);
    expect(lastStreamEndedAt! - firstDeltaAt!).toBeGreaterThanOrEqual(200);
    console.log(`nginx SSE: model streamed for ${modelMs} ms; first delta reached the client ${lastStreamEndedAt! - firstDeltaAt!} ms before the model finished`);
  });

  it("SIGKILL of one instance mid-load: 5xx only for requests in flight on it, every later request 200", async () => {
    const client = "127.0.0.40";
    const text = "nginx kill test, a cached caption";
    expect((await caption(client, {}, text)).status).toBe(200);
    expect((JSON.parse((await caption(client, {}, text)).body) as { cached: boolean }).cached).toBe(true);

    const WORKERS = 6;
    const results: (Answer & { kind: string })[] = [];
    // A request whose answer nginx had begun to relay from A when A died is cut ("aborted"):
    // nginx cannot retry it once the headers went out. Like a 5xx, only one in flight at the kill.
    const clientErrors: { error: string; startedAt: number; endedAt: number }[] = [];
    let killAt = Infinity;
    let exitAt = Infinity;
    let stopAt = Infinity;
    const worker = async (w: number): Promise<void> => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      for (let i = 0; performance.now() < stopAt; i++) {
        const kind = (i + w) % 2 === 0 ? "health" : "cached generate";
        const startedAt = performance.now();
        try {
          const answer = kind === "health" ? await send({ from: client, path: "/api/health", agent }) : await caption(client, { agent }, text);
          results.push({ ...answer, kind });
        } catch (error) {
          clientErrors.push({ error: String(error), startedAt, endedAt: performance.now() });
        }
      }
      agent.destroy();
    };
    const load = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    // At least 1.5 s and 2 answers per worker before the kill, 3 s and as many after A exited.
    const loadStart = performance.now();
    while (performance.now() - loadStart < 1_500 || results.length < 2 * WORKERS) await new Promise((r) => setTimeout(r, 50));
    const victim = apps[0]!;
    killAt = performance.now();
    victim.child.kill("SIGKILL");
    await victim.exited;
    exitAt = performance.now();
    while (performance.now() - exitAt < 3_000 || results.filter((r) => r.startedAt >= exitAt).length < 2 * WORKERS) {
      await new Promise((r) => setTimeout(r, 50));
    }
    stopAt = performance.now();
    await load;

    const failed = results.filter((r) => r.status >= 500);
    // In flight at the kill: sent before A had died, answered after the signal.
    const inFlight = results.filter((r) => r.startedAt < exitAt && r.endedAt > killAt);
    const after = results.filter((r) => r.startedAt >= exitAt);
    const lines = await logged(failed);
    const beforeKill = results.filter((r) => r.endedAt <= killAt);
    const total = results.length;
    const afterMs = after.map((r) => r.endedAt - r.startedAt).sort((x, y) => x - y);
    console.log(
      `nginx kill: ${total} requests in ${Math.round(stopAt - loadStart)} ms (${beforeKill.length} before the kill, ${after.length} after A exited, ` +
        `${Math.round(exitAt - killAt)} ms from SIGKILL to exit), ${WORKERS} workers; in flight at the kill ${inFlight.length}; ` +
        `5xx ${failed.length} (${failed.map((f) => `${f.kind} ${f.status} via ${lines.get(f.requestId)?.upstream_addr ?? "?"}`).join("; ") || "none"}); ` +
        `client errors ${clientErrors.length} (${clientErrors.map((e) => e.error).join("; ") || "none"}); after the kill p50 ${Math.round(afterMs[Math.floor(afterMs.length / 2)] ?? 0)} ms, max ${Math.round(afterMs.at(-1) ?? 0)} ms`,
    );
    // A cut answer only for a request in flight at the kill (sent before A had exited, ended
    // after the signal), at most one per worker; none once A was gone.
    for (const e of clientErrors) {
      expect(e.startedAt, e.error).toBeLessThan(exitAt);
      expect(e.endedAt, e.error).toBeGreaterThan(killAt);
    }
    expect(clientErrors.length).toBeLessThanOrEqual(WORKERS);
    // A real load on both sides of the kill (figures above; an idle machine does far more).
    expect(beforeKill.length).toBeGreaterThanOrEqual(WORKERS);
    // The bound: a 5xx only for a request in flight at the kill (sent before A had exited,
    // answered after the signal) that nginx had handed to A. A GET in flight is retried on B; a
    // POST that reached A is not (by design: it may have been acted on).
    expect(failed.length).toBeLessThanOrEqual(inFlight.length);
    for (const f of failed) {
      expect(inFlight).toContain(f);
      expect(lines.get(f.requestId)?.upstream_addr).toContain(upstream[0]);
    }
    // Every request sent after A had exited was answered 200 (by B).
    expect(after.length).toBeGreaterThanOrEqual(2 * WORKERS);
    expect(after.filter((r) => r.status !== 200).map(outcome)).toEqual([]);
  }, 30_000);

  it("with both instances down, nginx answers our 502 page and JSON envelope, not its default", async () => {
    await Promise.all(apps.map((app) => app.stop()));
    const page = await send({ from: "127.0.0.60", path: "/en", headers: { accept: "text/html" } });
    expect(page.status).toBe(502);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.body).toBe(readFileSync(path.join(ROOT, "deploy", "502.html"), "utf8"));
    expect(page.body).not.toMatch(/nginx/i);
    expect(page.headers.server).toBe("nginx"); // server_tokens off: no version
    expect(page.headers["retry-after"]).toBe("5");
    expect(page.requestId).toMatch(/^[0-9a-f]{32}$/);

    const api = await caption("127.0.0.60");
    expect(api.status).toBe(502);
    expect(api.headers["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(api.body)).toEqual({ error: { code: "upstream_unavailable", message: expect.any(String), requestId: api.requestId } });
    console.log(`nginx both down: page ${page.status} in ${Math.round(page.endedAt - page.startedAt)} ms (${page.body.length} bytes, deploy/502.html), API ${api.status} ${errorCode(api)} in ${Math.round(api.endedAt - api.startedAt)} ms`);
  });
});
