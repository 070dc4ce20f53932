/**
 * scripts/start.mjs sets V8's heap growing factor before the server loads (docs/PERFORMANCE.md,
 * "Memory"). The real start.mjs runs here against a build that does not exist, so it stops with
 * its "no production build" line right after the setting; a preload records the flags it sets.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const START = path.join(import.meta.dirname, "start.mjs");
const dir = mkdtempSync(path.join(tmpdir(), "litstatus-start-heap-"));
const preload = path.join(dir, "record-flags.cjs");
writeFileSync(
  preload,
  `const v8 = require("node:v8");
   const set = v8.setFlagsFromString;
   v8.setFlagsFromString = (flags) => { process.stderr.write("SET-FLAGS " + flags + "\\n"); return set(flags); };`,
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function start(nodeFlags: string[]) {
  const out = spawnSync(process.execPath, [...nodeFlags, "--require", preload, START], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", NEXT_DIST_DIR: ".no-such-build" } as unknown as NodeJS.ProcessEnv,
    timeout: 20_000,
  });
  return { status: out.status, flags: out.stderr.split("\n").filter((l) => l.startsWith("SET-FLAGS ")), stderr: out.stderr };
}

describe("start.mjs: V8 heap growth", () => {
  it("sets the heap growing factor before anything else", () => {
    const run = start([]);
    expect(run.stderr).toContain("no production build");
    expect(run.status).toBe(1);
    expect(run.flags).toEqual(["SET-FLAGS --heap-growing-percent=100"]);
  });

  it("keeps an operator's own flag, in either spelling", () => {
    for (const flag of ["--heap-growing-percent=300", "--heap_growing_percent=0"]) {
      const run = start([flag]);
      expect(run.stderr).toContain("no production build");
      expect(run.flags).toEqual([]);
    }
  });

  it("takes effect when set at run time: old space peaks well below what V8 commits by default", () => {
    // A live set plus garbage that lives long enough to be promoted. On this machine V8's default
    // let old space peak at about 205-210 MiB, the factor set at run time at about 120-130 MiB.
    const script = `
      const v8 = require("node:v8");
      if (process.argv[1] === "tuned") v8.setFlagsFromString("--heap-growing-percent=100");
      const live = [];
      for (let i = 0; i < 400000; i++) live.push({ s: "live" + i, n: i });
      let peak = 0;
      const keep = [];
      for (let round = 0; round < 1500; round++) {
        const batch = [];
        for (let i = 0; i < 5000; i++) batch.push({ s: "garbage" + i + round, n: [i, round] });
        keep.push(batch);
        if (keep.length > 40) keep.shift();
        const old = v8.getHeapSpaceStatistics().find((s) => s.space_name === "old_space");
        peak = Math.max(peak, old.space_size);
      }
      console.log(JSON.stringify({ peakMiB: peak / 1048576, live: live.length }));
    `;
    const peakMiB = (mode: string) => {
      const out = spawnSync(process.execPath, ["-e", script, mode], { encoding: "utf8" });
      expect(out.status, out.stderr).toBe(0);
      return (JSON.parse(out.stdout) as { peakMiB: number }).peakMiB;
    };
    const untuned = peakMiB("default");
    const tuned = peakMiB("tuned");
    expect(tuned).toBeLessThan(untuned * 0.8);
  }, 60_000);
});
