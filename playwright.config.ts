import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { defineConfig, devices } from "@playwright/test";
import { appPort, appUrl, databaseUrl, E2E_SERVER_SECRETS, E2E_WORKERS, fakeOpenAiPort, serverLog, SLOTS } from "./e2e/support/slots";

/**
 * The browser suite: Debian's Chromium against `npm start` (the standalone production build
 * with the peer-address layer; run `npm run build` first, `npm run test:ci` does), a fake
 * OpenAI server and a fresh embedded database per run. It runs E2E_WORKERS workers (default 2),
 * each with its own app server, fake OpenAI server and database (e2e/support/slots.ts): a test
 * that opens the breaker or blocks an address does it on its own worker's server only. Set
 * E2E_BASE_URL to aim it at a server you started yourself (one worker).
 * e2e/client-identity.spec.ts starts its own servers.
 */
// Workers re-load this file: the data dir is made once and handed down through the environment.
process.env.E2E_DATA_DIR ??= mkdtempSync(path.join(tmpdir(), "litstatus-e2e-"));

/**
 * The app under test uses a throwaway PostgreSQL database when a server answers (CI always has
 * one), so tests can check what is stored; e2e/global-teardown.ts drops them. Without PostgreSQL
 * it falls back to embedded PGlite and the database checks are skipped.
 */
function createE2eDatabase(slot: number): string | undefined {
  const admin = process.env.E2E_DATABASE_ADMIN_URL ?? process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const name = `litstatus_e2e_${Date.now()}_${process.pid}_${slot}`;
  try {
    execFileSync("psql", [admin, "-q", "-c", `create database ${name}`], { stdio: "pipe" });
  } catch {
    return undefined;
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  execFileSync("npm", ["run", "--silent", "db:migrate"], { env: { ...process.env, DATABASE_URL: url.toString() }, stdio: "pipe" });
  return url.toString();
}
if (process.env.E2E_DATABASE_URLS === undefined && !process.env.E2E_BASE_URL) {
  process.env.E2E_DATABASE_URLS = SLOTS.map((slot) => createE2eDatabase(slot) ?? "").join(",");
}

/** One slot's fake OpenAI server and app server. */
function slotServers(slot: number) {
  const fakePort = fakeOpenAiPort(slot);
  const log = serverLog(slot);
  const database = databaseUrl(slot);
  return [
    {
      command: "npx tsx e2e/support/fake-openai.ts",
      port: fakePort,
      env: { PORT: String(fakePort) },
      reuseExistingServer: false,
      stdout: "ignore" as const,
    },
    {
      // The log goes to a file: browser tests read local sign-in links from it.
      command: `mkdir -p ${path.dirname(log)} && exec npm start > ${log} 2>&1`,
      url: `${appUrl(slot)}/api/health`,
      timeout: 60_000,
      reuseExistingServer: false,
      env: {
        PORT: String(appPort(slot)),
        HOSTNAME: "127.0.0.1",
        // The browser tests play many clients from one machine: each sends its own
        // X-Forwarded-For, trusted as if a proxy had appended it (one hop: this test runner).
        TRUST_PROXY_HEADER: "x-forwarded-for",
        TRUST_PROXY_HOPS: "1",
        PGLITE_DATA_DIR: path.join(process.env.E2E_DATA_DIR!, `pglite-${slot}`),
        ...(database ? { DATABASE_URL: database } : {}),
        LOG_LEVEL: "info",
        ...E2E_SERVER_SECRETS,
        OPENAI_BASE_URL: `http://127.0.0.1:${fakePort}/v1`,
        MODERATION: "on",
        // e2e/admin-console.spec.ts signs in as this admin (moderators are made in the database).
        ADMIN_EMAILS: "admin@e2e.test",
      },
    },
  ];
}

export default defineConfig({
  testDir: "e2e",
  testMatch: "**/*.spec.ts",
  outputDir: "e2e/.artifacts/test-results",
  // Files are spread over the workers; a file's tests run in order on one worker (and its server).
  fullyParallel: false,
  workers: E2E_WORKERS,
  retries: 0,
  timeout: 30_000,
  reporter: [["list"], ["json", { outputFile: "e2e/.artifacts/results.json" }]],
  globalTeardown: "./e2e/global-teardown.ts",
  use: {
    // e2e/support/test.ts sets each worker's own; this is slot 0's.
    baseURL: appUrl(0),
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    },
  },
  projects: [{ name: "chromium", use: { ...devices["Desktop Chrome"], channel: undefined } }],
  webServer: process.env.E2E_BASE_URL ? undefined : SLOTS.flatMap(slotServers),
});
