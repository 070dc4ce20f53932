/**
 * `npm run bench`: latency and round trips of POST /api/generate, measured in-process through
 * the real route handlers and stores, with the fake OpenAI answering after 200 ms.
 *
 *   npm run bench                 embedded stores (PGlite + in-memory)
 *   npm run bench -- --real       also real PostgreSQL + Redis (TEST_DATABASE_URL / TEST_REDIS_URL,
 *                                 defaulting to the local servers)
 *
 * Reports medians (and p90) from one run; performance goals are checked here, never in tests.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { startTestApp } from "@/e2e/support/harness/app-harness";

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 30);
const MODEL_LATENCY_MS = 200;

interface Sample {
  ms: number;
  kv: number;
  db: number;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

function summarize(samples: Sample[]) {
  const ms = samples.map((s) => s.ms);
  return {
    medianMs: Math.round(quantile(ms, 0.5) * 10) / 10,
    p90Ms: Math.round(quantile(ms, 0.9) * 10) / 10,
    kvRoundTrips: Math.max(...samples.map((s) => s.kv)),
    dbRoundTrips: Math.max(...samples.map((s) => s.db)),
  };
}

async function run(mode: "embedded" | "real") {
  if (mode === "real") {
    process.env.TEST_DATABASE_URL ??= "postgres://postgres@127.0.0.1:5432/postgres";
    process.env.TEST_REDIS_URL ??= "redis://127.0.0.1:6379";
  } else {
    delete process.env.TEST_DATABASE_URL;
    delete process.env.TEST_REDIS_URL;
  }
  const app = await startTestApp({ DEBUG: "litstatus:*", GUEST_DAILY_LIMIT: "1000000", PRO_DAILY_LIMIT: "1000000" });
  try {
    app.fake.set({ latencyMs: MODEL_LATENCY_MS });
    const { token } = await app.signUp("bench@example.test", "pro");
    const time = async (body: unknown, options: { ip: string; token?: string }): Promise<Sample> => {
      const started = performance.now();
      const res = await app.generate(body, options);
      const ms = performance.now() - started;
      if (res.status !== 200) throw new Error(`generate answered ${res.status}: ${await res.text()}`);
      const header = res.headers.get("x-debug-round-trips") ?? "";
      const kv = Number(/kv=(\d+)/.exec(header)?.[1] ?? NaN);
      const db = Number(/db=(\d+)/.exec(header)?.[1] ?? NaN);
      return { ms, kv, db };
    };
    const results: Record<string, ReturnType<typeof summarize>> = {};
    for (const who of ["guest", "user"] as const) {
      const misses: Sample[] = [];
      const hits: Sample[] = [];
      // One warm-up pair, not measured (script loading, JIT, first connections).
      await time({ text: `${who} warm-up`, mode: "standard", lang: "en" }, { ip: "192.0.2.250", token: who === "user" ? token : undefined });
      for (let i = 0; i < SAMPLES; i++) {
        const body = { text: `${who} bench caption ${i} ${mode}`, mode: "standard", lang: "en" };
        const options = { ip: `192.0.2.${(i % 200) + 1}`, token: who === "user" ? token : undefined };
        misses.push(await time(body, options));
        hits.push(await time(body, options));
      }
      results[`${who} miss`] = summarize(misses);
      results[`${who} hit`] = summarize(hits);
    }
    return results;
  } finally {
    await app.close();
  }
}

async function main() {
  const modes: ("embedded" | "real")[] = process.argv.includes("--real") ? ["embedded", "real"] : ["embedded"];
  const report: Record<string, unknown> = { samples: SAMPLES, modelLatencyMs: MODEL_LATENCY_MS, at: new Date().toISOString() };
  for (const mode of modes) {
    const results = await run(mode);
    report[mode] = results;
    console.log(`\n${mode} stores — ${SAMPLES} samples each, fake model ${MODEL_LATENCY_MS} ms`);
    console.table(results);
    const guestRatio = (results["guest miss"]?.medianMs ?? NaN) / (results["guest hit"]?.medianMs ?? NaN);
    console.log(`guest miss/hit median ratio: ${guestRatio.toFixed(1)}x`);
  }
  mkdirSync(".data", { recursive: true });
  writeFileSync(".data/bench.json", `${JSON.stringify(report, null, 2)}\n`);
  console.log("\nwritten to .data/bench.json");
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
