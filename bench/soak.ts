/**
 * `npm run soak`: is resident memory flat under long mixed traffic? (issue 12 §3)
 *
 *   npm run soak -- [--duration 600] [--real]
 *     --warm-up S            the same traffic first, off the curve (default 60 s for runs
 *                            under 4 minutes, none for longer ones: their first minute is it)
 *     --connections N (16)   wrk connections
 *     --users N (3)          signed-in users in the mix
 *     --no-build             serve the build in NEXT_DIST_DIR as it is
 *     --heap-snapshot        the server writes a heap snapshot at the baseline and at the end
 *                            (into NEXT_DIST_DIR/standalone; compare them in Chrome DevTools)
 *     --node-arg FLAG        an extra node flag for the server (repeatable)
 *     --env KEY=VALUE        extra server environment (repeatable)
 *
 * The production server (as in npm run bench) gets wrk's mixed cycle (bench/support/load.lua):
 * health, guests' cached generates, guests' and signed-in users' misses (the fake model answers
 * in 20 ms), signed-in users' hits and history pages, every guest request from the next of
 * 100,000 client addresses. RSS is read from /proc every few seconds, printed as a curve and
 * written to .data/soak.json. It passes when the highest reading after the baseline and the
 * final one are within 10 % above the baseline: the reading after the first minute, or after
 * the first quarter for runs shorter than 4 minutes. Errors (answers ≥ 400, socket errors) and
 * server warnings (e.g. a Redis fallback) fail it too: the traffic would not have been what it claims.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { appDistDir, ensureAppBuild, REPO_ROOT } from "./support/build";
import { captionBody, clientAddress, expectGeneration, postGenerate } from "./support/client";
import { startRssSampler } from "./support/rss";
import { envPairs, openStack, signIn, startAppServer, type ServerProcess } from "./support/stack";
import { round } from "./support/stats";
import { baselineAt, judge } from "./support/flat";
import { ensureWrk, failures, runWrk, throughput } from "./support/wrk";

const DISTINCT_ADDRESSES = 100_000;
const MODEL_LATENCY_MS = 20;

const { values: flags } = parseArgs({
  options: {
    duration: { type: "string", default: "600" },
    "warm-up": { type: "string" },
    real: { type: "boolean", default: false },
    connections: { type: "string", default: "16" },
    users: { type: "string", default: "3" },
    "no-build": { type: "boolean", default: false },
    "heap-snapshot": { type: "boolean", default: false },
    "node-arg": { type: "string", multiple: true, default: [] },
    env: { type: "string", multiple: true, default: [] },
  },
});

async function main(): Promise<number> {
  const durationS = Number(flags.duration);
  if (!Number.isInteger(durationS) || durationS < 8) throw new Error(`--duration must be whole seconds ≥ 8, got ${flags.duration}`);
  const users = Number(flags.users);
  // Runs of 4 minutes or more read their baseline after the first minute; shorter ones warm up first.
  const warmUpS = Number(flags["warm-up"] ?? (durationS >= 240 ? 0 : 60));
  if (!Number.isInteger(warmUpS) || warmUpS < 0) throw new Error(`--warm-up must be whole seconds ≥ 0, got ${flags["warm-up"]}`);
  const distDir = appDistDir();
  ensureWrk();
  ensureAppBuild(distDir, !flags["no-build"]);
  const mode = flags.real ? "real" : "embedded";
  const nonce = Date.now().toString(36);
  console.log(`soak: ${durationS} s of mixed traffic on ${mode} stores, ${flags.connections} connections, load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);

  const workDir = mkdtempSync(path.join(os.tmpdir(), "litstatus-soak-"));
  const stack = await openStack(mode);
  let app: ServerProcess | undefined;
  try {
    stack.fake.set({ latencyMs: MODEL_LATENCY_MS });
    Object.assign(stack.env, envPairs(flags.env));
    // Sessions through the app's own sign-in (a debug server logs the links), then the soaked server.
    const debug = await startAppServer(stack, { distDir, debug: true });
    const cookies: string[] = [];
    try {
      for (let i = 0; i < users; i++) cookies.push(await signIn(debug, `soak-${nonce}-${i}@example.test`, clientAddress(DISTINCT_ADDRESSES + 1 + i)));
    } finally {
      await debug.stop();
    }
    const nodeArgs = [...flags["node-arg"], ...(flags["heap-snapshot"] ? ["--heapsnapshot-signal=SIGUSR2"] : [])];
    app = await startAppServer(stack, { distDir, nodeArgs });
    const hitText = `soak ${nonce}: cached lunch by the harbour`;
    const files = { body: path.join(workDir, "hit.json"), cookies: path.join(workDir, "cookies.txt") };
    writeFileSync(files.body, captionBody(hitText));
    writeFileSync(files.cookies, `${cookies.join("\n")}\n`);
    expectGeneration(await postGenerate(app.url, hitText, { address: clientAddress(DISTINCT_ADDRESSES + 100) }), false, "priming the cached text");

    const wrkBase = {
      url: app.url,
      connections: Number(flags.connections),
      script: { WRK_MODE: "soak", WRK_BODY_FILE: files.body, WRK_COOKIES: files.cookies, WRK_ADDRESSES: String(DISTINCT_ADDRESSES), WRK_NONCE: nonce },
    };
    let warmUpFailures = 0;
    if (warmUpS > 0) {
      // A fresh server's heap grows to its working size over the first minute or so of load: a
      // short run starts its clock after that, as a long one reads its baseline after it.
      console.log(`soak: ${warmUpS} s of the same traffic first, not on the curve`);
      warmUpFailures = failures(await runWrk({ ...wrkBase, durationS: warmUpS, script: { ...wrkBase.script, WRK_NONCE: `${nonce}w`, WRK_OFFSET: "50000" } }));
      stack.fake.resetStats();
    }

    const intervalMs = durationS >= 120 ? 5000 : 2000;
    const rss = startRssSampler(app.pid, intervalMs);
    const at = baselineAt(durationS);
    const server = app;
    const snapshot = async (label: string) => {
      if (!flags["heap-snapshot"]) return;
      server.child.kill("SIGUSR2");
      console.log(`soak: heap snapshot requested (${label})`);
    };
    const baselineTimer = setTimeout(() => void snapshot("baseline"), at * 1000);
    let printed = 0;
    const printer = setInterval(() => {
      for (; printed < rss.samples.length; printed++) {
        const s = rss.samples[printed]!;
        console.log(`  ${s.t.toFixed(0).padStart(5)} s  ${s.rssMiB.toFixed(1).padStart(7)} MiB`);
      }
    }, intervalMs);
    const result = await runWrk({ ...wrkBase, durationS });
    clearTimeout(baselineTimer);
    clearInterval(printer);
    rss.stop();
    if (app.exited()) throw new Error(`the server exited during the soak:\n${app.output().slice(-4000)}`);
    await snapshot("end");
    if (flags["heap-snapshot"]) await sleep(20_000);

    const curve = rss.samples.map(({ t, rssMiB }) => ({ t: round(t, 1), rssMiB }));
    for (; printed < curve.length; printed++) console.log(`  ${curve[printed]!.t.toFixed(0).padStart(5)} s  ${curve[printed]!.rssMiB.toFixed(1).padStart(7)} MiB`);
    const verdict = judge(curve, durationS);
    const failed = failures(result) + warmUpFailures;
    const warnings = app.warnings();
    if (warnings.length > 0) console.error(`soak: the server logged ${warnings.length} warnings or errors, e.g.:\n${warnings.slice(0, 5).join("\n")}`);
    const report = {
      mode,
      at: new Date().toISOString(),
      durationS,
      warmUpS,
      connections: Number(flags.connections),
      requests: result.requests,
      requestsPerSecond: Math.round(throughput(result)),
      statuses: result.statuses,
      failures: failed,
      warnings: warnings.length,
      errors: result.errors,
      modelCalls: stack.fake.stats().chatCalls,
      distinctAddresses: DISTINCT_ADDRESSES,
      verdict,
      curve,
    };
    mkdirSync(path.join(REPO_ROOT, ".data"), { recursive: true });
    writeFileSync(path.join(REPO_ROOT, ".data", "soak.json"), `${JSON.stringify(report, null, 2)}\n`);
    console.log(
      `soak: ${result.requests} requests (${report.requestsPerSecond}/s), statuses ${JSON.stringify(result.statuses)}, ${failed} failed, ${report.modelCalls} model calls\n` +
        `soak: baseline ${verdict.baselineMiB} MiB at ${verdict.baselineAtS.toFixed(0)} s, max after it ${verdict.maxAfterBaselineMiB} MiB (${(verdict.maxGrowth * 100).toFixed(1)} %), ` +
        `final ${verdict.finalMiB} MiB (${(verdict.finalGrowth * 100).toFixed(1)} %): ${verdict.pass ? "flat" : "NOT flat"}; written to .data/soak.json`,
    );
    if (failed > 0) console.error(`soak: ${failed} requests failed: ${JSON.stringify(result.errors)}`);
    return verdict.pass && failed === 0 && warnings.length === 0 ? 0 : 1;
  } finally {
    await app?.stop();
    await stack.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error("soak failed:", error);
    process.exit(1);
  },
);
