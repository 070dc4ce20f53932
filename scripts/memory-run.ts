/**
 * Resident memory of the PRODUCTION server under cached generates from distinct client
 * addresses (issue 8 §9): the real stores (PostgreSQL, and Redis behind the Upstash REST test
 * server), the fake OpenAI server, and the built app started as `npm start` starts it, behind a
 * trusted proxy setting (TRUST_PROXY_HEADER=x-forwarded-for, TRUST_PROXY_HOPS=1) so that each
 * request's X-Forwarded-For is a new client.
 *
 *   npm run build
 *   npx tsx --conditions react-server scripts/memory-run.ts [--requests 50000] [--concurrency 16]
 *       [--app-dir DIR]   another checkout's build (e.g. the commit before a fix)
 *       [--heap-snapshot] the server writes a heap snapshot at the end (--heapsnapshot-signal)
 *       [--same-address]  every request from one client (a control: what is per client?)
 *       [--env KEY=VALUE] extra server environment (repeatable)
 *       [--node-arg FLAG] extra node flag for the server (repeatable)
 *
 * TEST_DATABASE_URL / TEST_REDIS_URL default to the local servers. A fresh database and a fresh
 * key prefix are used and removed afterwards. Prints RSS (from /proc) before the run, every
 * 10,000 requests and at the end, plus the response statuses, as one JSON line at the end.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { deleteKeys } from "@/e2e/support/harness/stores-kv";
import { startFakeOpenAI } from "@/e2e/support/fake-openai";
import { openTestDb } from "@/e2e/support/harness/stores-db";
import { startUpstashRestServer } from "@/e2e/support/upstash-rest-server";

const { values: args } = parseArgs({
  options: {
    requests: { type: "string", default: "50000" },
    concurrency: { type: "string", default: "16" },
    "app-dir": { type: "string", default: path.resolve(import.meta.dirname, "..") },
    "sample-every": { type: "string", default: "10000" },
    /** Write a heap snapshot of the server at the end (into its working directory). */
    "heap-snapshot": { type: "boolean", default: false },
    /** Extra node flags for the server (e.g. --max-old-space-size=256), repeatable. */
    "node-arg": { type: "string", multiple: true, default: [] },
    /** Extra server environment, KEY=VALUE, repeatable. */
    env: { type: "string", multiple: true, default: [] },
    /** Every request from one address instead (the burst limit is raised to let them through). */
    "same-address": { type: "boolean", default: false },
  },
});
const REQUESTS = Number(args.requests);
const CONCURRENCY = Number(args.concurrency);
const SAMPLE_EVERY = Number(args["sample-every"]);
const APP_DIR = path.resolve(args["app-dir"]);

process.env.TEST_DATABASE_URL ??= "postgres://postgres@127.0.0.1:5432/postgres";
process.env.TEST_REDIS_URL ??= "redis://127.0.0.1:6379";

const rssMiB = (pid: number): number => {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Math.round(Number(match[1]) / 1024) : Number.NaN;
};

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The n-th distinct client address (10.0.0.1 …), one per request. */
const clientAddress = (n: number): string => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

async function main(): Promise<void> {
  // `npm start` (scripts/start.mjs) where the checkout has it, else the bare standalone server.
  const startFile = path.join(APP_DIR, "scripts", "start.mjs");
  const serverFile = path.join(APP_DIR, ".next", "standalone", "server.js");
  if (!existsSync(serverFile)) throw new Error(`no production build at ${serverFile}: run npm run build first`);
  const entry = existsSync(startFile) ? startFile : serverFile;

  const redisUrl = process.env.TEST_REDIS_URL ?? "";
  const prefix = `mem:${randomBytes(4).toString("hex")}:`;
  const testDb = await openTestDb();
  const rest = await startUpstashRestServer({ redisUrl });
  const fake = await startFakeOpenAI();
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const nodeArgs = [...(args["node-arg"] ?? []), ...(args["heap-snapshot"] ? ["--heapsnapshot-signal=SIGUSR2"] : [])];
  const child = spawn(process.execPath, [...nodeArgs, entry], {
    cwd: APP_DIR,
    stdio: ["ignore", "pipe", "inherit"],
    env: {
      PATH: process.env.PATH,
      NODE_ENV: "production",
      PORT: String(port),
      HOSTNAME: "127.0.0.1",
      LOG_LEVEL: "warn",
      APP_URL: origin,
      DATABASE_URL: testDb.url,
      UPSTASH_REDIS_REST_URL: rest.url,
      UPSTASH_REDIS_REST_TOKEN: rest.token,
      REDIS_KEY_PREFIX: prefix,
      OPENAI_API_KEY: "sk-test",
      OPENAI_BASE_URL: `${fake.url}/v1`,
      AUTH_SECRET: randomBytes(32).toString("hex"),
      TRUST_PROXY_HEADER: "x-forwarded-for",
      TRUST_PROXY_HOPS: "1",
      ...(args["same-address"] ? { RATE_LIMIT_GENERATE_PER_MIN: "100000" } : {}),
      ...Object.fromEntries((args.env ?? []).map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)])),
    },
  });
  child.stdout?.resume();
  const pid = child.pid;
  if (pid === undefined) throw new Error("the server did not start");
  const statuses: Record<string, number> = {};
  const samples: { requests: number; rssMiB: number }[] = [];
  try {
    // Ready when the generate route answers.
    const body = JSON.stringify({ text: "a quiet morning with coffee", mode: "standard", lang: "en" });
    const generate = (n: number) =>
      fetch(`${origin}/api/generate`, {
        method: "POST",
        headers: { "content-type": "application/json", origin, "x-forwarded-for": clientAddress(n) },
        body,
      });
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
      const res = await generate(0).catch(() => null);
      if (res?.status === 200) {
        await res.arrayBuffer();
        break;
      }
      if (Date.now() > deadline) throw new Error(`the server did not answer 200 in 60 s (last: ${res?.status})`);
      await sleep(250);
    }
    // A few hundred requests of warm-up (code paths compiled, pools open) before the baseline.
    for (let n = 1; n <= 500; n++) await (await generate(n)).arrayBuffer();
    await sleep(2000);
    samples.push({ requests: 0, rssMiB: rssMiB(pid) });
    console.log(JSON.stringify(samples.at(-1)));

    let next = 0;
    const started = Date.now();
    const worker = async (): Promise<void> => {
      while (next < REQUESTS) {
        const n = ++next;
        const res = await generate(args["same-address"] ? 1 : 1000 + n);
        await res.arrayBuffer();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (n % SAMPLE_EVERY === 0) {
          samples.push({ requests: n, rssMiB: rssMiB(pid) });
          console.log(JSON.stringify(samples.at(-1)));
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (Date.now() - started) / 1000;
    await sleep(5000);
    samples.push({ requests: REQUESTS, rssMiB: rssMiB(pid) });
    if (args["heap-snapshot"]) {
      child.kill("SIGUSR2");
      await sleep(20_000);
      // Writing the snapshot ran a full GC: what is left is what is really held.
      samples.push({ requests: REQUESTS, rssMiB: rssMiB(pid) });
    }
    console.log(
      JSON.stringify({
        appDir: APP_DIR,
        entry: path.relative(APP_DIR, entry),
        requests: REQUESTS,
        concurrency: CONCURRENCY,
        requestsPerSecond: Math.round(REQUESTS / seconds),
        statuses,
        modelCalls: fake.stats().chatCalls,
        rssMiB: samples,
      }),
    );
  } finally {
    child.kill("SIGTERM");
    await Promise.race([new Promise((resolve) => child.once("exit", resolve)), sleep(5000)]);
    if (child.exitCode === null) child.kill("SIGKILL");
    await fake.close();
    await rest.close();
    await testDb.cleanup();
    await deleteKeys(redisUrl, prefix);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
