/**
 * `npm run bench`: the production server beside a bare Next route, on one machine, in one run
 * (issue 12, PRODUCT §10). See docs/PERFORMANCE.md for the method and the last results.
 *
 *   npm run bench                       embedded stores (PGlite + in-memory)
 *   npm run bench -- --real             PostgreSQL + Redis behind the Upstash REST test server
 *   npm run bench -- --smoke [--real]   CI: 1 round of 2 s, 10 connections, 3 misses; writes
 *                                       .data/bench-smoke.json only; fails only on errors
 *     --duration S (8)  --rounds N (3)  --connections N (50)  --misses N (20)
 *     --no-build        serve the build in NEXT_DIST_DIR as it is (default: rebuilt when stale)
 *     --node-arg FLAG   an extra node flag for the app server (repeatable)
 *     --env KEY=VALUE   extra app server environment (repeatable)
 *
 * NEXT_DIST_DIR (default .next-bench) is the app's build; TEST_DATABASE_URL / TEST_REDIS_URL
 * (default the local servers) are where --real makes its fresh database and key prefix.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { appDistDir, ensureAppBuild, ensureBareBuild, REPO_ROOT } from "./support/build";
import { callModelDirect, captionBody, clientAddress, expectGeneration, getPath, postBareModel, postGenerate, type Caller } from "./support/client";
import { saveRun, type LoadPhase, type Mode, type ModeResult, type ProbeKind } from "./support/report";
import { startRssSampler, type RssSampler } from "./support/rss";
import { envPairs, openStack, signIn, startAppServer, startBareServer, type ServerProcess, type Stack } from "./support/stack";
import { median, percentile, round, spread } from "./support/stats";
import { ensureWrk, failures, runWrk, throughput, type WrkResult } from "./support/wrk";

const MODEL_LATENCY_MS = 200;
const WRK_THREADS = 1;
const RSS_INTERVAL_MS = 250;

const { values: flags } = parseArgs({
  options: {
    real: { type: "boolean", default: false },
    smoke: { type: "boolean", default: false },
    duration: { type: "string" },
    rounds: { type: "string" },
    connections: { type: "string" },
    misses: { type: "string" },
    "no-build": { type: "boolean", default: false },
    "node-arg": { type: "string", multiple: true, default: [] },
    env: { type: "string", multiple: true, default: [] },
  },
});

const positive = (text: string | undefined, fallback: number, name: string): number => {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number ≥ 1, got ${text}`);
  return n;
};
const smoke = flags.smoke;
const settings = {
  durationS: positive(flags.duration, smoke ? 2 : 8, "duration"),
  rounds: positive(flags.rounds, smoke ? 1 : 3, "rounds"),
  connections: positive(flags.connections, smoke ? 10 : 50, "connections"),
  misses: positive(flags.misses, smoke ? 3 : 20, "misses"),
};
const mode: Mode = flags.real ? "real" : "embedded";
const distDir = appDistDir();
/** Makes this run's texts (cache keys) its own: a real Redis keeps other runs' answers. */
const nonce = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
/** Every request of the run comes from a new client address; this hands them out. */
let nextAddress = 1;
const freshAddress = (): string => clientAddress(nextAddress++);

const problems: string[] = [];

function machineFacts(): ModeResult["machine"] {
  const git = (...args: string[]) => execFileSync("git", args, { cwd: REPO_ROOT, encoding: "utf8" }).trim();
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpu: cpus[0]?.model.replace(/\s+/g, " ").trim() ?? "unknown",
    node: process.version,
    commit: git("rev-parse", "--short", "HEAD"),
    uncommitted: git("status", "--porcelain", "--untracked-files=no") !== "",
    loadBefore: os.loadavg().map((l) => round(l, 2)),
  };
}

function checkAlive(...servers: ServerProcess[]): void {
  for (const server of servers) if (server.exited()) throw new Error(`${server.name} exited during the run:\n${server.output().slice(-4000)}`);
}

/** Round trips per request type, from a server started with DEBUG=litstatus:* (not the measured one). */
async function probeRoundTrips(server: ServerProcess, cookie: string, samples: number): Promise<ModeResult["roundTrips"]> {
  const seen: Record<ProbeKind, { kv: number; db: number }[]> = { health: [], "guest miss": [], "guest hit": [], "user miss": [], "user hit": [] };
  const record = (kind: ProbeKind, answer: { roundTrips?: { kv: number; db: number } }) => {
    if (!answer.roundTrips) throw new Error(`${kind}: no X-Debug-Round-Trips header (is DEBUG set?)`);
    seen[kind].push(answer.roundTrips);
  };
  for (let i = 0; i < samples; i++) {
    const health = await getPath(server.url, "/api/health", { address: freshAddress() });
    if (health.status !== 200) throw new Error(`probe: /api/health answered ${health.status}`);
    record("health", health);
    for (const who of ["guest", "user"] as const) {
      const caller = (): Caller => ({ address: freshAddress(), cookie: who === "user" ? cookie : undefined });
      const text = `probe ${nonce} ${who} ${i}: a long walk by the river at dusk`;
      const miss = await postGenerate(server.url, text, caller());
      expectGeneration(miss, false, `probe ${who} miss`);
      record(`${who} miss`, miss);
      const hit = await postGenerate(server.url, text, caller());
      expectGeneration(hit, true, `probe ${who} hit`);
      record(`${who} hit`, hit);
    }
  }
  const out = {} as ModeResult["roundTrips"];
  for (const [kind, list] of Object.entries(seen) as [ProbeKind, { kv: number; db: number }[]][]) {
    out[kind] = { kv: median(list.map((s) => s.kv)), db: median(list.map((s) => s.db)) };
  }
  return out;
}

interface LoadTargets {
  /** The fake model's base URL (no /v1). */
  fakeUrl: string;
  bare: ServerProcess;
  app: ServerProcess;
  files: { guestBody: string; userBody: string; cookies: string };
  guestText: string;
  userText: string;
  cookie: string;
}

/** One wrk run of a phase against the right server. */
function loadPhase(phase: LoadPhase, t: LoadTargets, durationS: number, connections: number, offset: number): Promise<WrkResult> {
  const base = { connections, durationS, threads: WRK_THREADS };
  switch (phase) {
    case "bareHealth":
      return runWrk({ ...base, url: `${t.bare.url}/api/health`, script: { WRK_MODE: "static" } });
    case "appHealth":
      return runWrk({ ...base, url: `${t.app.url}/api/health`, script: { WRK_MODE: "static" } });
    case "guestHit":
      return runWrk({ ...base, url: t.app.url, script: { WRK_MODE: "generate", WRK_BODY_FILE: t.files.guestBody, WRK_ROTATE: "1", WRK_OFFSET: String(offset) } });
    case "userHit":
      return runWrk({ ...base, url: t.app.url, script: { WRK_MODE: "generate", WRK_BODY_FILE: t.files.userBody, WRK_COOKIES: t.files.cookies } });
  }
}

/** After a generate phase: a few answers, from new addresses, must be 200 and from the cache. */
async function sampleCached(t: LoadTargets, phase: "guestHit" | "userHit"): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const caller = { address: freshAddress(), cookie: phase === "userHit" ? t.cookie : undefined };
    expectGeneration(await postGenerate(t.app.url, phase === "userHit" ? t.userText : t.guestText, caller), true, `${phase} sample`);
  }
}

/**
 * `count` sequential calls, each with its own distinct text: their latencies (in ms, as `call`
 * measured them) over the model's 200 ms.
 */
async function overModel(count: number, label: string, call: (text: string) => Promise<number>): Promise<number[]> {
  const overheads: number[] = [];
  for (let i = 0; i < count; i++) overheads.push((await call(`bench ${nonce} ${label} ${i}: a rainy afternoon with a good book`)) - MODEL_LATENCY_MS);
  return overheads;
}

/**
 * The bare app's model route: what a route that only calls the model costs over the model on
 * this machine (Next, the two calls, waking up after the wait).
 */
function bareMissRound(t: LoadTargets, count: number, label: string): Promise<number[]> {
  return overModel(count, `${label} bare`, async (text) => {
    const answer = await postBareModel(t.bare.url, text);
    if (answer.status !== 200 || typeof answer.body.caption !== "string") throw new Error(`bare model route: answered ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
    return answer.ms;
  });
}

/** The fake model itself, no server in between: the floor under both. */
function modelMissRound(t: LoadTargets, count: number, label: string): Promise<number[]> {
  return overModel(count, `${label} model`, async (text) => {
    const answer = await callModelDirect(t.fakeUrl, text);
    if (answer.statuses.some((status) => status !== 200)) throw new Error(`the fake model answered ${answer.statuses.join(", ")}`);
    return answer.ms;
  });
}

/** Misses: distinct texts, each from a new address. */
function missRound(t: LoadTargets, who: "guest" | "user", count: number, label: string): Promise<number[]> {
  return overModel(count, `${label} ${who}`, async (text) => {
    const answer = await postGenerate(t.app.url, text, { address: freshAddress(), cookie: who === "user" ? t.cookie : undefined });
    expectGeneration(answer, false, `${who} miss`);
    return answer.ms;
  });
}

const PHASES: readonly LoadPhase[] = ["bareHealth", "appHealth", "guestHit", "userHit"];

async function measure(stack: Stack, bare: ServerProcess, bareRss: RssSampler, cookie: string, workDir: string) {
  const app = await startAppServer(stack, { distDir, nodeArgs: flags["node-arg"] });
  const appRss = startRssSampler(app.pid, RSS_INTERVAL_MS);
  try {
    const guestText = `bench ${nonce} cached: morning coffee on the balcony`;
    const userText = `bench ${nonce} cached for a user: sunset over the hills`;
    const files = { guestBody: path.join(workDir, "guest.json"), userBody: path.join(workDir, "user.json"), cookies: path.join(workDir, "cookies.txt") };
    writeFileSync(files.guestBody, captionBody(guestText));
    writeFileSync(files.userBody, captionBody(userText));
    writeFileSync(files.cookies, `${cookie}\n`);
    const t: LoadTargets = { fakeUrl: stack.fake.url, bare, app, files, guestText, userText, cookie };
    // The two cached texts: one miss each, then they are hits.
    expectGeneration(await postGenerate(app.url, guestText, { address: freshAddress() }), false, "priming the guest text");
    expectGeneration(await postGenerate(app.url, userText, { address: freshAddress(), cookie }), false, "priming the user text");

    let offset = 1_000_000;
    if (!smoke) {
      // Warm-up, not measured: code compiled, pools and keep-alive connections open.
      appRss.phase("warm-up");
      for (const phase of PHASES) {
        await loadPhase(phase, t, Math.min(3, settings.durationS), settings.connections, (offset += 100_000));
      }
      await modelMissRound(t, 3, "warm-up");
      await bareMissRound(t, 3, "warm-up");
      await missRound(t, "guest", 3, "warm-up");
      await missRound(t, "user", 3, "warm-up");
      checkAlive(app, bare);
    }

    const rounds: Record<LoadPhase, WrkResult[]> = { bareHealth: [], appHealth: [], guestHit: [], userHit: [] };
    const missOverheads: Record<"model" | "bare" | "guest" | "user", number[][]> = { model: [], bare: [], guest: [], user: [] };
    for (let r = 0; r < settings.rounds; r++) {
      for (const phase of PHASES) {
        appRss.phase(phase);
        bareRss.phase(phase);
        const result = await loadPhase(phase, t, settings.durationS, settings.connections, (offset += 100_000));
        appRss.phase(null);
        bareRss.phase(null);
        checkAlive(app, bare);
        rounds[phase].push(result);
        const failed = failures(result);
        if (failed > 0) problems.push(`${phase} round ${r + 1}: ${failed} failed of ${result.requests} (${JSON.stringify(result.errors)})`);
        if (phase === "guestHit" || phase === "userHit") await sampleCached(t, phase);
        console.log(`  round ${r + 1} ${phase.padEnd(10)} ${Math.round(throughput(result)).toString().padStart(6)} req/s  p50 ${(result.latencyUs.p50 / 1000).toFixed(1)} ms  p99 ${(result.latencyUs.p99 / 1000).toFixed(1)} ms  failed ${failed}  rss ${appRss.latest()} MiB`);
      }
      missOverheads.model.push(await modelMissRound(t, settings.misses, `round ${r + 1}`));
      missOverheads.bare.push(await bareMissRound(t, settings.misses, `round ${r + 1}`));
      appRss.phase("misses");
      for (const who of ["guest", "user"] as const) missOverheads[who].push(await missRound(t, who, settings.misses, `round ${r + 1}`));
      appRss.phase(null);
      const p50 = (who: "model" | "bare" | "guest" | "user") => percentile(missOverheads[who].at(-1)!, 0.5).toFixed(1);
      console.log(`  round ${r + 1} misses     guest p50 +${p50("guest")} ms, user p50 +${p50("user")} ms, bare model route p50 +${p50("bare")} ms, the model alone p50 +${p50("model")} ms over ${MODEL_LATENCY_MS} ms`);
      checkAlive(app, bare);
    }
    const endMiB = appRss.latest();
    appRss.stop();
    // A warning means a figure may not be what it says (e.g. served from the in-memory fallback).
    const warnings = app.warnings();
    if (warnings.length > 0) problems.push(`the app logged ${warnings.length} warnings or errors, e.g.:\n${warnings.slice(0, 5).join("\n")}`);

    const load = {} as ModeResult["load"];
    for (const phase of PHASES) {
      const list = rounds[phase];
      load[phase] = {
        rps: spread(list.map(throughput), 0),
        p50Ms: spread(list.map((w) => w.latencyUs.p50 / 1000), 2),
        p99Ms: spread(list.map((w) => w.latencyUs.p99 / 1000), 2),
        requests: list.reduce((sum, w) => sum + w.requests, 0),
        failures: list.reduce((sum, w) => sum + failures(w), 0),
      };
    }
    const ratio = (phase: LoadPhase) => spread(rounds[phase].map((w, i) => throughput(w) / throughput(rounds.bareHealth[i]!)), 2);
    const missFigures = (who: "model" | "bare" | "guest" | "user") => ({
      overheadP50Ms: spread(missOverheads[who].map((list) => percentile(list, 0.5)), 1),
      overheadP99Ms: spread(missOverheads[who].map((list) => percentile(list, 0.99)), 1),
      samples: missOverheads[who].flat().length,
    });
    const appPhases = appRss.phases();
    const measured = Object.entries(appPhases).filter(([name]) => name !== "warm-up");
    return {
      load,
      ratios: { appHealth: ratio("appHealth"), guestHit: ratio("guestHit"), userHit: ratio("userHit") },
      misses: {
        guest: missFigures("guest"),
        user: missFigures("user"),
        bare: missFigures("bare"),
        model: missFigures("model"),
        // Per round: the guest miss's p50 minus the bare model route's, both from that round.
        guestOverBareP50Ms: spread(missOverheads.guest.map((list, i) => percentile(list, 0.5) - percentile(missOverheads.bare[i]!, 0.5)), 1),
      },
      memory: {
        app: { phases: appPhases, peakMiB: Math.max(...measured.map(([, m]) => m.peakMiB)), endMiB },
        bare: { peakMiB: Math.max(...Object.values(bareRss.phases()).map((m) => m.peakMiB)) },
      },
    };
  } finally {
    appRss.stop();
    await app.stop();
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  ensureWrk();
  ensureBareBuild();
  ensureAppBuild(distDir, !flags["no-build"]);
  const machine = machineFacts();
  console.log(
    `bench: ${mode} stores, ${settings.rounds} × ${settings.durationS} s, ${settings.connections} connections, ${settings.misses} misses; ` +
      `load average ${machine.loadBefore.join(" ")} on ${machine.cores} cores`,
  );
  const workDir = mkdtempSync(path.join(os.tmpdir(), "litstatus-bench-"));
  const stack = await openStack(mode);
  let bare: ServerProcess | undefined;
  try {
    stack.fake.set({ latencyMs: MODEL_LATENCY_MS });
    Object.assign(stack.env, envPairs(flags.env));
    bare = await startBareServer(stack);
    const bareRss = startRssSampler(bare.pid, RSS_INTERVAL_MS);
    // A server with debug logging: the sign-in link is logged, and round trips come back as a header.
    const debug = await startAppServer(stack, { distDir, debug: true });
    let cookie: string;
    let roundTrips: ModeResult["roundTrips"];
    try {
      cookie = await signIn(debug, `bench-${nonce}@example.test`, freshAddress());
      roundTrips = await probeRoundTrips(debug, cookie, smoke ? 2 : 5);
    } finally {
      await debug.stop();
    }
    console.log(`bench: round trips (kv/db): ${Object.entries(roundTrips).map(([k, v]) => `${k} ${v.kv}/${v.db}`).join(", ")}`);
    const figures = await measure(stack, bare, bareRss, cookie, workDir);
    bareRss.stop();
    const result: ModeResult = {
      mode,
      at: new Date(started).toISOString(),
      machine,
      settings: { ...settings, modelLatencyMs: MODEL_LATENCY_MS, wrkThreads: WRK_THREADS, server: "both on Next's standalone server (app: node scripts/start.mjs)" },
      ...figures,
      roundTrips,
    };
    report(result);
  } finally {
    await bare?.stop();
    await stack.close();
    rmSync(workDir, { recursive: true, force: true });
    console.log(`bench: ${Math.round((Date.now() - started) / 1000)} s in all`);
  }
}

function report(result: ModeResult): void {
  mkdirSync(path.join(REPO_ROOT, ".data"), { recursive: true });
  const r = result;
  console.log(
    `\n${r.mode}: /api/health ÷ bare ${r.ratios.appHealth.median}, cached generate ÷ bare ${r.ratios.guestHit.median}, ` +
      `user's cached ÷ bare ${r.ratios.userHit.median}, miss overhead p50 ${r.misses.guest.overheadP50Ms.median} ms ` +
      `(user ${r.misses.user.overheadP50Ms.median} ms), memory peak ${r.memory.app.peakMiB} MiB (bare ${r.memory.bare.peakMiB} MiB)`,
  );
  if (smoke) {
    const file = path.join(REPO_ROOT, ".data", "bench-smoke.json");
    writeFileSync(file, `${JSON.stringify({ ...result, problems }, null, 2)}\n`);
    console.log(`written to ${path.relative(REPO_ROOT, file)}`);
  } else if (problems.length > 0) {
    const file = path.join(REPO_ROOT, ".data", "bench-failed.json");
    writeFileSync(file, `${JSON.stringify({ ...result, problems }, null, 2)}\n`);
    console.log(`errors during the run: results not saved (see ${path.relative(REPO_ROOT, file)})`);
  } else {
    saveRun(result, { results: path.join(REPO_ROOT, "bench", "results.json"), doc: path.join(REPO_ROOT, "docs", "PERFORMANCE.md") });
    console.log("written to bench/results.json and docs/PERFORMANCE.md");
  }
  for (const problem of problems) console.error(`bench: ${problem}`);
}

main().then(
  () => process.exit(problems.length > 0 ? 1 : 0),
  (error: unknown) => {
    console.error("bench failed:", error);
    process.exit(1);
  },
);
