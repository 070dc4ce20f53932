import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnAppServer, type SpawnedAppServer } from "@/e2e/support/app-server";
import { startFakeOpenAI, type FakeOpenAIServer } from "@/e2e/support/fake-openai";
import { realStoreServerEnv, TEST_AUTH_SECRET } from "@/e2e/support/harness/app-harness";
import { openTestDb, type TestDb } from "@/e2e/support/harness/stores-db";
import { openTestKv, type TestKv } from "@/e2e/support/harness/stores-kv";
import { signSessionToken } from "@/lib/auth/tokens";

/**
 * Monitoring, live (issue 11 item 5): Debian's Prometheus scrapes a running app with the
 * metrics token, using monitoring/prometheus.yml itself with only the intervals (1 s), the target
 * (this test's app) and nothing else changed, and loading monitoring/alerts.yml. After a scripted
 * workload (health checks, a 400, guest generations with a cache miss, a hit and a quota denial,
 * a signed-in user's generation, an OpenAI failure (503), burst-limit 429s) every query of
 * monitoring/grafana/dashboard.json must return at least one series, the dashboard's `job`
 * variable must find the job, and every alert rule must evaluate without error.
 *
 * Real-store suite (the app on PostgreSQL and Redis, as in production). Skipped when the
 * `prometheus` binary is absent; CI installs Debian's `prometheus`, and the real-store run
 * counts a skip as a failure.
 */
const HERE = path.dirname(fileURLToPath(import.meta.url));
const APP_PORT = 6010; // this helper's range: 6000-6099
const PROMETHEUS_PORT = 6090;
const METRICS_TOKEN = "live-test-metrics-token-0123456789";
const GUEST_DAILY_LIMIT = 2;
const API_PER_MIN = 5;
/** Bounds: Prometheus ready, the target up, and the scrapes after the workload (1 s interval). */
const READY_BOUND_MS = 20_000;
const TARGET_UP_BOUND_MS = 20_000;
const SCRAPES_AFTER_WORKLOAD = 2;
const SCRAPE_WAIT_BOUND_MS = 30_000;
/** What the dashboard's variables stand for here. */
const VARIABLES: Record<string, string> = { job: "litstatus", __rate_interval: "1m", __interval: "15s", __range: "5m" };

const real = Boolean(process.env.TEST_DATABASE_URL && process.env.TEST_REDIS_URL);
const hasPrometheus = spawnSync("prometheus", ["--version"]).status === 0;
const skipReason = !real ? "real-store suite only (TEST_DATABASE_URL, TEST_REDIS_URL)" : !hasPrometheus ? "no prometheus binary (apt-get install prometheus)" : "";

/**
 * monitoring/prometheus.yml for this test: the same job, metrics path, scheme, token file and
 * labels; the intervals at 1 s and the static targets replaced by the test's app. Each change
 * must apply exactly once, so a reshaped file fails here rather than silently testing less.
 */
function deriveScrapeConfig(text: string, target: string): string {
  const edits: [RegExp, (m: string, ...groups: string[]) => string][] = [
    [/^(\s*)scrape_interval:\s*\S+$/m, (_m, indent) => `${indent}scrape_interval: 1s`],
    [/^(\s*)scrape_timeout:\s*\S+$/m, (_m, indent) => `${indent}scrape_timeout: 1s`],
    [/^(\s*)evaluation_interval:\s*\S+$/m, (_m, indent) => `${indent}evaluation_interval: 1s`],
    [/^(\s*- targets:\n)((?:[ \t]*#.*\n)*)((?:[ \t]*- \S+\n)+)/m, (_m, head, comments, list) => `${head}${comments}${/^[ \t]*/.exec(list)![0]}- ${target}\n`],
  ];
  let out = text;
  for (const [pattern, replace] of edits) {
    const global = new RegExp(pattern.source, "gm");
    if ((out.match(global) ?? []).length !== 1) throw new Error(`monitoring/prometheus.yml: expected exactly one match of ${pattern}`);
    out = out.replace(pattern, replace);
  }
  return out;
}

/** Every `expr` of the dashboard's panels (rows' nested panels too), with its panel's title. */
function dashboardQueries(dashboard: unknown): { panel: string; expr: string }[] {
  type Panel = { title?: string; panels?: Panel[]; targets?: { expr?: string }[] };
  const out: { panel: string; expr: string }[] = [];
  const walk = (panels: Panel[] | undefined) => {
    for (const panel of panels ?? []) {
      for (const target of panel.targets ?? []) if (target.expr) out.push({ panel: panel.title ?? "?", expr: target.expr });
      walk(panel.panels);
    }
  };
  walk((dashboard as { panels?: Panel[] }).panels);
  return out;
}

function substitute(expr: string): string {
  const out = expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? "";
    const value = VARIABLES[name];
    if (value === undefined) throw new Error(`dashboard variable ${whole} has no value in this test`);
    return value;
  });
  return out;
}

interface PromVector {
  status: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(skipReason !== "")(`Prometheus scrapes the app; every dashboard query has a series${skipReason ? ` (skipped: ${skipReason})` : ""}`, () => {
  let fake: FakeOpenAIServer;
  let kv: TestKv;
  let db: TestDb;
  let app: SpawnedAppServer;
  let prometheus: ChildProcess | undefined;
  let prometheusLog = "";
  let scratch: string;
  const promUrl = `http://127.0.0.1:${PROMETHEUS_PORT}`;

  const query = async (expr: string, time?: number): Promise<PromVector> => {
    const params = new URLSearchParams({ query: expr });
    if (time !== undefined) params.set("time", String(time));
    const res = await fetch(`${promUrl}/api/v1/query?${params.toString()}`);
    return (await res.json()) as PromVector;
  };
  const scalarOf = async (expr: string, time?: number): Promise<number | undefined> => {
    const v = (await query(expr, time)).data?.result[0]?.value[1];
    return v === undefined ? undefined : Number(v);
  };

  beforeAll(async () => {
    scratch = mkdtempSync(path.join(tmpdir(), "litstatus-prometheus-"));
    fake = await startFakeOpenAI();
    kv = await openTestKv();
    db = await openTestDb();
    app = await spawnAppServer({
      port: APP_PORT,
      env: {
        ...realStoreServerEnv({ db, kv, fake }),
        METRICS_TOKEN,
        GUEST_DAILY_LIMIT: String(GUEST_DAILY_LIMIT),
        RATE_LIMIT_API_PER_MIN: String(API_PER_MIN),
      },
    });

    mkdirSync(path.join(scratch, "secrets"));
    writeFileSync(path.join(scratch, "secrets", "metrics-token"), METRICS_TOKEN);
    copyFileSync(path.join(HERE, "alerts.yml"), path.join(scratch, "alerts.yml"));
    writeFileSync(path.join(scratch, "prometheus.yml"), deriveScrapeConfig(readFileSync(path.join(HERE, "prometheus.yml"), "utf8"), `127.0.0.1:${APP_PORT}`));
    prometheus = spawn(
      "prometheus",
      [
        `--config.file=${path.join(scratch, "prometheus.yml")}`,
        `--storage.tsdb.path=${path.join(scratch, "data")}`,
        `--web.listen-address=127.0.0.1:${PROMETHEUS_PORT}`,
        "--log.level=warn",
      ],
      { cwd: scratch, stdio: ["ignore", "pipe", "pipe"] },
    );
    prometheus.stdout!.on("data", (c: Buffer) => (prometheusLog += c.toString("utf8")));
    prometheus.stderr!.on("data", (c: Buffer) => (prometheusLog += c.toString("utf8")));
    const started = Date.now();
    for (;;) {
      if (prometheus.exitCode !== null) throw new Error(`prometheus exited (${prometheus.exitCode}):\n${prometheusLog}`);
      if (Date.now() - started > READY_BOUND_MS) throw new Error(`prometheus not ready within ${READY_BOUND_MS} ms:\n${prometheusLog}`);
      if (await fetch(`${promUrl}/-/ready`).then((r) => r.ok, () => false)) break;
      await sleep(100);
    }
  }, 120_000);

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus!.once("exit", resolve));
      prometheus.kill("SIGTERM");
      const timer = setTimeout(() => prometheus!.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await app?.stop();
    await fake?.close();
    await kv?.cleanup();
    await db?.cleanup();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it("scrapes the app with the token, then every dashboard query returns a series after a workload", async () => {
    // 1. The target is up: the bearer token from the file was accepted.
    const upStarted = Date.now();
    interface Target {
      health: string;
      lastError: string;
      labels: Record<string, string>;
    }
    let target: Target | undefined;
    while (Date.now() - upStarted < TARGET_UP_BOUND_MS) {
      const body = (await (await fetch(`${promUrl}/api/v1/targets`)).json()) as { data: { activeTargets: Target[] } };
      target = body.data.activeTargets.find((t) => t.labels.job === "litstatus");
      if (target?.health === "up") break;
      await sleep(200);
    }
    expect(target?.lastError ?? "no target", prometheusLog).toBe("");
    expect(target?.health).toBe("up");
    const upAfterMs = Date.now() - upStarted;

    // 2. The workload.
    const post = (p: string, body: unknown, token?: string) =>
      fetch(`${app.url}${p}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
    const generate = async (text: string, token?: string) => {
      const res = await post("/api/generate", { text, mode: "standard", lang: "en" }, token);
      const body = (await res.json()) as { cached?: boolean; error?: { code: string } };
      return { status: res.status, cached: body.cached, code: body.error?.code };
    };
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${app.url}/api/health`)).status);
    expect(statuses).toEqual([200, 200, 200]);
    expect((await post("/api/generate", {})).status).toBe(400);

    const miss = await generate("live monitoring: a caption");
    expect(miss).toMatchObject({ status: 200, cached: false });
    const hit = await generate("live monitoring: a caption");
    expect(hit).toMatchObject({ status: 200, cached: true });
    let denied: { status: number; code?: string } | undefined;
    for (let i = 0; i < GUEST_DAILY_LIMIT + 2 && !denied; i++) {
      const r = await generate(`live monitoring: guest ${i}`);
      if (r.status !== 200) denied = r;
    }
    expect(denied).toEqual({ status: 429, cached: undefined, code: "quota_exceeded" });

    const email = `live-monitoring-${Date.now().toString(36)}@example.test`;
    const [row] = await db.db.query<{ id: string }>(`insert into auth.users (email) values ($1) returning id`, [email]);
    const token = await signSessionToken({ sub: row!.id, email }, TEST_AUTH_SECRET, 3600);
    expect(await generate("live monitoring: signed in", token)).toMatchObject({ status: 200, cached: false });
    fake.set({ fault: { kind: "status", status: 500 } });
    expect(await generate("live monitoring: upstream fails", token)).toMatchObject({ status: 503, code: "upstream_unavailable" });
    fake.reset();

    const limited: number[] = [];
    for (let i = 0; i < API_PER_MIN + 3; i++) limited.push((await fetch(`${app.url}/api/quota`)).status);
    expect(limited.filter((s) => s === 429).length).toBeGreaterThanOrEqual(1);
    const workloadEnd = Date.now() / 1000;

    // 3. Successful scrapes after the workload: at least SCRAPES_AFTER_WORKLOAD, so a counter
    //    first seen during the workload has two samples for rate()/increase(). A scrape that
    //    failed (a slow answer on a loaded machine) is not counted; queries are evaluated at the
    //    last successful scrape, where no series is stale.
    const waitStarted = Date.now();
    let evaluatedAt = 0;
    let scrapesAfter = 0;
    for (;;) {
      const last = await scalarOf('timestamp(up{job="litstatus"} == 1)');
      if (last !== undefined && last > workloadEnd) {
        const windowMs = Math.floor((last - workloadEnd) * 1000);
        scrapesAfter = (await scalarOf(`sum_over_time(up{job="litstatus"}[${windowMs}ms])`, last)) ?? 0;
        if (scrapesAfter >= SCRAPES_AFTER_WORKLOAD) {
          evaluatedAt = last;
          break;
        }
      }
      if (Date.now() - waitStarted > SCRAPE_WAIT_BOUND_MS) {
        throw new Error(`fewer than ${SCRAPES_AFTER_WORKLOAD} successful scrapes after the workload within ${SCRAPE_WAIT_BOUND_MS} ms:\n${prometheusLog}`);
      }
      await sleep(250);
    }
    const scrapes = await scalarOf('count_over_time(up{job="litstatus"}[10m])', evaluatedAt);
    const failedScrapes = await scalarOf('count_over_time((up{job="litstatus"} == 0)[10m:1s])', evaluatedAt);

    // 4. Every dashboard query.
    const dashboard = JSON.parse(readFileSync(path.join(HERE, "grafana", "dashboard.json"), "utf8")) as unknown;
    const queries = dashboardQueries(dashboard);
    expect(queries.length).toBeGreaterThan(0);
    const results = await Promise.all(
      queries.map(async ({ panel, expr }) => {
        const promql = substitute(expr);
        const answer = await query(promql, evaluatedAt);
        return { panel, promql, error: answer.status === "success" ? undefined : (answer.error ?? answer.status), series: answer.data?.result.length ?? 0 };
      }),
    );
    const broken = results.filter((r) => r.error !== undefined || r.series === 0).map((r) => `${r.panel}: ${r.promql} → ${r.error ?? "no series"}`);
    expect(broken, `dashboard queries without a series:\n${broken.join("\n")}`).toEqual([]);

    // The dashboard's `job` variable (label_values(litstatus_http_requests_total, job)).
    const jobs = (await (await fetch(`${promUrl}/api/v1/label/job/values?${new URLSearchParams({ "match[]": "litstatus_http_requests_total" }).toString()}`)).json()) as { data: string[] };
    expect(jobs.data).toContain("litstatus");

    // The alert rules (alerts.yml, loaded by the same config) evaluate on these series without error.
    const rules = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as { data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] } };
    const all = rules.data.groups.flatMap((g) => g.rules);
    expect(all.length).toBe(7);
    expect(all.filter((r) => r.health !== "ok").map((r) => `${r.name}: ${r.health} ${r.lastError ?? ""}`)).toEqual([]);

    console.log(
      `monitoring live: target up after ${upAfterMs} ms (bound ${TARGET_UP_BOUND_MS}), ${scrapes} scrapes at 1 s (${failedScrapes ?? 0} failed; ${scrapesAfter} after the workload), ` +
        `${results.length} dashboard queries all with series (${results.map((r) => r.series).join(",")}), ${all.length} rules ok`,
    );
  }, 90_000);
});
