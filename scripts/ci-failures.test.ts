/**
 * scripts/ci-failures.mjs names the failed tests at the end of a CI log. The reports here are
 * real: vitest and Playwright run small suites in a scratch folder (no browser: the Playwright
 * tests use no page) and write their JSON reports, which the script then reads.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failureLines, firstLine } from "./ci-failures.mjs";

const REPO = path.join(import.meta.dirname, "..");
const BIN = path.join(REPO, "node_modules", ".bin");
let dir = "";

beforeAll(() => {
  // Inside the repository, so the scratch suites resolve vitest and Playwright from its node_modules.
  mkdirSync(path.join(REPO, ".data"), { recursive: true });
  dir = mkdtempSync(path.join(REPO, ".data", "ci-failures-"));
}, 10_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(file: string, text: string) {
  mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  writeFileSync(path.join(dir, file), text);
}

function run(bin: string, args: string[]) {
  // Not this run's own vitest settings (worker ids, pool): the child is a run of its own.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VITEST") && k !== "NODE_OPTIONS"));
  const out = spawnSync(path.join(BIN, bin), args, {
    cwd: dir,
    encoding: "utf8",
    env: { ...env, CI: "1", FORCE_COLOR: "1" } as unknown as NodeJS.ProcessEnv,
    timeout: 60_000,
  });
  return out.status;
}

describe("failed tests named from real reports", () => {
  it("vitest: a failed test with its suite and first error line, a file whose hook failed; passed tests are not listed", () => {
    write("vitest.config.mjs", "export default { test: { include: ['v/**/*.test.mjs'] } };\n");
    write(
      "v/a.test.mjs",
      `import { describe, expect, it } from "vitest";
       describe("outer", () => { describe("inner", () => {
         it("adds", () => { expect(1 + 1).toBe(3); });
         it("passes", () => { expect(1).toBe(1); });
       }); });
       it("top level passes", () => {});
       it("too slow", async () => { await new Promise((r) => setTimeout(r, 2_000)); }, 50);\n`,
    );
    write("v/b.test.mjs", `import { beforeAll, it } from "vitest";\nbeforeAll(() => { throw new Error("no database\\nsecond line"); });\nit("never runs", () => {});\n`);
    write("v/c.test.mjs", `import { it } from "vitest";\nit("fine", () => {});\n`);
    const status = run("vitest", ["run", "--config", "vitest.config.mjs", "--reporter=json", "--outputFile.json=vitest.json"]);
    expect(status).not.toBe(0);

    const lines = failureLines([path.join(dir, "vitest.json")]);
    expect(lines.find((l) => l.includes("a.test.mjs"))).toMatch(/^failed: \S*v\/a\.test\.mjs › outer › inner › adds: .*expected 2 to be 3/);
    expect(lines.some((l) => /b\.test\.mjs.*no database/.test(l))).toBe(true);
    expect(lines.find((l) => l.includes("too slow"))).toMatch(/› too slow: timed out \(after 0\.\d s\)$/);
    expect(lines.some((l) => l.includes("second line"))).toBe(false);
    expect(lines.some((l) => /passes|c\.test/.test(l))).toBe(false);
    expect(lines.every((l) => !l.includes("\u001b["))).toBe(true);
  }, 60_000);

  it("playwright: a failed test with its describe and line, a timed-out test, a test that passed only on retry", () => {
    write(
      "playwright.config.mjs",
      "export default { testDir: 'p', retries: 1, reporter: [['json', { outputFile: 'pw.json' }]] };\n",
    );
    write(
      "p/x.spec.mjs",
      `import { expect, test } from "@playwright/test";
       test.describe("group", () => {
         test("fails", () => { expect("a").toBe("b"); });
       });
       test("times out", async () => { test.setTimeout(300); await new Promise((r) => setTimeout(r, 5_000)); });
       test("flaky", () => { expect(test.info().retry).toBe(1); });
       test("passes", () => {});\n`,
    );
    const status = run("playwright", ["test", "--config", "playwright.config.mjs"]);
    expect(status).not.toBe(0);

    const lines = failureLines([path.join(dir, "pw.json")]);
    expect(lines.find((l) => l.includes("› fails"))).toMatch(/^failed: x\.spec\.mjs:3 › group › fails: .*toBe/);
    expect(lines.find((l) => l.includes("times out"))).toMatch(/Test timeout of 300ms exceeded/);
    expect(lines.find((l) => l.includes("› flaky"))).toContain("(flaky: passed on retry)");
    expect(lines.some((l) => l.includes("› passes"))).toBe(false);
  }, 60_000);

  it("a missing or unreadable report lists nothing; an error keeps only its first line, cut short", () => {
    write("broken.json", "{ not json");
    expect(failureLines([path.join(dir, "missing.json"), path.join(dir, "broken.json")])).toEqual([]);
    expect(firstLine("\n\u001b[31mAssertionError\u001b[39m: boom\n    at x")).toBe("AssertionError: boom");
    expect(firstLine("x".repeat(1_000))).toHaveLength(240);
  });
});
