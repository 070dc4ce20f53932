import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { defineConfig, devices } from "@playwright/test";

/**
 * The browser suite: Debian's Chromium against `next start` of the production build (run
 * `npm run build` first; `npm run test:ci` does), a fake OpenAI server and a fresh embedded
 * database per run. Set E2E_BASE_URL to aim it at a server you started yourself.
 */
const APP_PORT = Number(process.env.E2E_APP_PORT ?? 3100);
const FAKE_OPENAI_PORT = Number(process.env.E2E_FAKE_OPENAI_PORT ?? 4010);
// Workers re-load this file: the data dir is made once and handed down through the environment.
process.env.E2E_DATA_DIR ??= mkdtempSync(path.join(tmpdir(), "litstatus-e2e-"));
const baseURL = process.env.E2E_BASE_URL ?? `http://127.0.0.1:${APP_PORT}`;

export default defineConfig({
  testDir: "e2e",
  testMatch: "**/*.spec.ts",
  outputDir: "e2e/.artifacts/test-results",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 30_000,
  reporter: [["list"], ["json", { outputFile: "e2e/.artifacts/results.json" }]],
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
          command: `npx next start -H 127.0.0.1 -p ${APP_PORT}`,
          url: `${baseURL}/api/health`,
          timeout: 60_000,
          reuseExistingServer: false,
          env: {
            PGLITE_DATA_DIR: path.join(process.env.E2E_DATA_DIR, "pglite"),
            LOG_LEVEL: "warn",
            OPENAI_API_KEY: "sk-fake-e2e",
            OPENAI_BASE_URL: `http://127.0.0.1:${FAKE_OPENAI_PORT}/v1`,
            MODERATION: "on",
          },
        },
      ],
});
