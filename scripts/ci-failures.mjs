#!/usr/bin/env node
/**
 * Names every failed test in the suite's JSON reports, one line each with the first line of its
 * error, so the last lines of a CI log say what failed and not only which step
 * (scripts/test-ci.sh prints them before its totals). Reads vitest JSON reports and Playwright's
 * JSON report; a report that is missing or unreadable is skipped (the step's own status already
 * counts it as failed).
 *
 *   node scripts/ci-failures.mjs .data/test-results/*.json e2e/.artifacts/results.json
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The longest error excerpt kept per test. */
const ERROR_CHARS = 240;

/** The first non-empty line of an error text, ANSI colours removed, cut to ERROR_CHARS. */
export function firstLine(text) {
  const clean = String(text ?? "").replace(/\u001b\[[0-9;]*m/g, "");
  const line = clean.split("\n").map((l) => l.trim()).find((l) => l.length > 0) ?? "";
  return line.length > ERROR_CHARS ? `${line.slice(0, ERROR_CHARS - 1)}…` : line;
}

function relative(file) {
  return path.isAbsolute(file) ? path.relative(process.cwd(), file) : file;
}

/** Failed tests of a vitest JSON report: a file that failed with no failed test (a hook, an import) is listed as the file. */
function vitestFailures(report) {
  const out = [];
  for (const file of report.testResults ?? []) {
    const name = relative(file.name ?? "?");
    const failed = (file.assertionResults ?? []).filter((t) => t.status === "failed");
    for (const t of failed) {
      const title = [...(t.ancestorTitles ?? []), t.title].filter(Boolean).join(" › ");
      let error = firstLine(t.failureMessages?.[0]);
      // Vitest's JSON report gives a test that timed out the placeholder of the stack it kept.
      if (error === "Error: STACK_TRACE_ERROR") error = "timed out";
      const seconds = typeof t.duration === "number" ? ` (after ${(t.duration / 1000).toFixed(1)} s)` : "";
      out.push({ test: `${name} › ${title}`, error: `${error}${seconds}` });
    }
    if (failed.length === 0 && file.status === "failed") out.push({ test: name, error: firstLine(file.message) });
  }
  return out;
}

/** Failed (or flaky) tests of a Playwright JSON report. */
function playwrightFailures(report) {
  const out = [];
  // The top-level suites are the spec files, already named by spec.file.
  const walk = (suite, titles, top = false) => {
    const here = suite.title && !top ? [...titles, suite.title] : titles;
    for (const spec of suite.specs ?? []) {
      for (const test of spec.tests ?? []) {
        const results = test.results ?? [];
        const bad = results.find((r) => r.status !== "passed" && r.status !== "skipped");
        if (!bad) continue;
        const flaky = results.at(-1)?.status === "passed" ? " (flaky: passed on retry)" : "";
        out.push({
          test: `${spec.file ?? suite.file ?? "?"}:${spec.line ?? "?"} › ${[...here, spec.title].join(" › ")}${flaky}`,
          error: firstLine(bad.error?.message ?? bad.errors?.[0]?.message ?? bad.status),
        });
      }
    }
    for (const child of suite.suites ?? []) walk(child, here);
  };
  for (const suite of report.suites ?? []) walk(suite, [], true);
  for (const error of report.errors ?? []) out.push({ test: "(playwright run)", error: firstLine(error.message) });
  return out;
}

/** The failures in one parsed report, whichever runner wrote it. */
export function failuresIn(report) {
  if (Array.isArray(report?.testResults)) return vitestFailures(report);
  if (Array.isArray(report?.suites)) return playwrightFailures(report);
  return [];
}

/** The lines to print for these report files. */
export function failureLines(files) {
  const lines = [];
  for (const file of files) {
    let report;
    try {
      report = JSON.parse(readFileSync(file, "utf8"));
    } catch {
      continue;
    }
    for (const f of failuresIn(report)) lines.push(`failed: ${f.test}${f.error ? `: ${f.error}` : ""}`);
  }
  return lines;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const line of failureLines(process.argv.slice(2))) console.log(line);
}
