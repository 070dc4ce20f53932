#!/usr/bin/env node
/**
 * The integration suite against real servers: the vitest files that use a store, with
 * TEST_DATABASE_URL (an admin URL; every test file makes and drops its own database) and
 * TEST_REDIS_URL (every test uses its own key prefix and deletes it). A skipped test here is a
 * failure: the point of this run is that nothing quietly fell back to the embedded stores.
 *
 * A file uses a store when it goes through the test harness (e2e/support/harness/app-harness,
 * stores-db, stores-kv) or reads TEST_DATABASE_URL / TEST_REDIS_URL itself. The other files are
 * pure unit tests: they ran already in the embedded run and would run identically here. The
 * engine suites' streamed copies (*.sse.int.test.ts, which import a suite and switch it to
 * Server-Sent Events) are not picked either: the streamed path is the same code on either store,
 * and the stores are checked here by the suites they import. Name files (vitest filters) as
 * arguments to run only those.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const env = {
  ...process.env,
  TEST_DATABASE_URL: process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
  TEST_REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
  TEST_REQUIRE_REAL: "1",
};
const report = process.env.REAL_TESTS_REPORT ?? ".data/test-results/real.json";
mkdirSync(".data/test-results", { recursive: true });

/** The folders vitest.config.ts includes; files ending .test.ts. */
const ROOTS = ["lib", "app", "e2e/support", "scripts", "deploy", "monitoring"];
const USES_STORE = /e2e\/support\/harness\/(app-harness|stores-db|stores-kv)|TEST_DATABASE_URL|TEST_REDIS_URL/;

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" ? [] : testFiles(file);
    return entry.name.endsWith(".test.ts") ? [file] : [];
  });
}

let filters = process.argv.slice(2);
if (filters.length === 0) {
  const all = ROOTS.flatMap(testFiles);
  filters = all.filter((file) => USES_STORE.test(readFileSync(file, "utf8")));
  console.log(`real-store run: ${filters.length} of ${all.length} test files use a store`);
}

const run = spawnSync(
  "npx",
  ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...filters],
  { stdio: "inherit", env },
);
if (run.status !== 0) process.exit(run.status ?? 1);

const results = JSON.parse(readFileSync(report, "utf8"));
const skipped = results.numPendingTests + results.numTodoTests;
if (skipped > 0) {
  console.error(`real-store run: ${skipped} test(s) skipped; every test must run against the real servers:`);
  for (const file of results.testResults) {
    for (const test of file.assertionResults) {
      if (test.status !== "passed" && test.status !== "failed") console.error(`  skipped: ${path.relative(process.cwd(), file.name)} › ${test.fullName}`);
    }
  }
  process.exit(1);
}
console.log(`real-store run: ${results.numPassedTests} passed against ${env.TEST_DATABASE_URL.replace(/\/\/[^@]*@/, "//")} and ${env.TEST_REDIS_URL}`);
