#!/usr/bin/env node
/**
 * The integration suite against real servers: the same vitest files, with TEST_DATABASE_URL
 * (an admin URL; every test file makes and drops its own database) and TEST_REDIS_URL (every
 * test uses its own key prefix and deletes it). A skipped test here is a failure: the point of
 * this run is that nothing quietly fell back to the embedded stores.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";

const env = {
  ...process.env,
  TEST_DATABASE_URL: process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
  TEST_REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
  TEST_REQUIRE_REAL: "1",
};
const report = process.env.REAL_TESTS_REPORT ?? ".data/test-results/real.json";
mkdirSync(".data/test-results", { recursive: true });

const run = spawnSync(
  "npx",
  ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { stdio: "inherit", env },
);
if (run.status !== 0) process.exit(run.status ?? 1);

const results = JSON.parse(readFileSync(report, "utf8"));
const skipped = results.numPendingTests + results.numTodoTests;
if (skipped > 0) {
  console.error(`real-store run: ${skipped} test(s) skipped; every test must run against the real servers`);
  process.exit(1);
}
console.log(`real-store run: ${results.numPassedTests} passed against ${env.TEST_DATABASE_URL.replace(/\/\/[^@]*@/, "//")} and ${env.TEST_REDIS_URL}`);
