import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { defineConfig, devices } from "@playwright/test";

/**
 * The browser suite: Debian's Chromium against `npm start` (the standalone production build
 * with the peer-address layer; run `npm run build` first, `npm run test:ci` does), a fake
 * OpenAI server and a fresh embedded database per run. Set E2E_BASE_URL to aim it at a server
 * you started yourself. e2e/client-identity.spec.ts starts its own servers.
 */
const APP_PORT = Number(process.env.E2E_APP_PORT ?? 3100);
const FAKE_OPENAI_PORT = Number(process.env.E2E_FAKE_OPENAI_PORT ?? 4010);
// Workers re-load this file: the data dir is made once and handed down through the environment.
process.env.E2E_DATA_DIR ??= mkdtempSync(path.join(tmpdir(), "litstatus-e2e-"));

/**
 * The app under test uses a throwaway PostgreSQL database when a server answers (CI always has
 * one), so tests can check what is stored; e2e/global-teardown.ts drops it. Without PostgreSQL
 * it falls back to embedded PGlite and the database checks are skipped.
 */
function createE2eDatabase(): string | undefined {
  const admin = process.env.E2E_DATABASE_ADMIN_URL ?? process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const name = `litstatus_e2e_${Date.now()}_${process.pid}`;
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
if (process.env.E2E_DATABASE_URL === undefined && !process.env.E2E_BASE_URL) {
  process.env.E2E_DATABASE_URL = createE2eDatabase() ?? "";
}
const baseURL = process.env.E2E_BASE_URL ?? `http://127.0.0.1:${APP_PORT}`;
const SERVER_LOG = "e2e/.artifacts/server.log";
process.env.E2E_SERVER_LOG ??= SERVER_LOG;

export default defineConfig({
  testDir: "e2e",
  testMatch: "**/*.spec.ts",
  outputDir: "e2e/.artifacts/test-results",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 30_000,
  reporter: [["list"], ["json", { outputFile: "e2e/.artifacts/results.json" }]],
  globalTeardown: "./e2e/global-teardown.ts",
  use: {
    baseURL,
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
  webServer: process.env.E2E_BASE_URL
    ? undefined
    : [
        {
          command: "npx tsx e2e/support/fake-openai.ts",
          port: FAKE_OPENAI_PORT,
          env: { PORT: String(FAKE_OPENAI_PORT) },
          reuseExistingServer: false,
          stdout: "ignore",
        },
        {
          // The log goes to a file: browser tests read local sign-in links from it.
          command: `mkdir -p e2e/.artifacts && exec npm start > ${SERVER_LOG} 2>&1`,
          url: `${baseURL}/api/health`,
          timeout: 60_000,
          reuseExistingServer: false,
          env: {
            PORT: String(APP_PORT),
            HOSTNAME: "127.0.0.1",
            // The browser tests play many clients from one machine: each sends its own
            // X-Forwarded-For, trusted as if a proxy had appended it (one hop: this test runner).
            TRUST_PROXY_HEADER: "x-forwarded-for",
            TRUST_PROXY_HOPS: "1",
            PGLITE_DATA_DIR: path.join(process.env.E2E_DATA_DIR, "pglite"),
            ...(process.env.E2E_DATABASE_URL ? { DATABASE_URL: process.env.E2E_DATABASE_URL } : {}),
            LOG_LEVEL: "info",
            AUTH_SECRET: "e2e-only-signing-secret-0123456789abcdef",
            OPENAI_API_KEY: "sk-fake-e2e",
            OPENAI_BASE_URL: `http://127.0.0.1:${FAKE_OPENAI_PORT}/v1`,
            MODERATION: "on",
            // e2e/admin-console.spec.ts signs in as this admin (moderators are made in the database).
            ADMIN_EMAILS: "admin@e2e.test",
          },
        },
      ],
});
