/**
 * Scenario 5 (issue 12 item 4, docs/RELIABILITY.md): the embedded database's directory full or
 * read-only when the server starts.
 *
 * The production server in embedded mode (no DATABASE_URL) with PGLITE_DATA_DIR on a tmpfs that
 * is full (1 MiB: no room for a new database) or mounted read-only. It must print one clear line
 * naming the directory and the problem (no stack trace), exit with EXIT_DATA_DIR_UNUSABLE within
 * the bound, write nothing half-way into the directory, and the supervisors we ship must not
 * restart it on that status (no crash loop). Needs root (mount); without it the suite fails, it
 * does not skip.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "@/e2e/support/app-server";
import { TEST_AUTH_SECRET } from "@/e2e/support/harness/app-harness";
import { EXIT_DATA_DIR_UNUSABLE } from "@/lib/db/data-dir";
import { spawnApp } from "./support/app";
import { run } from "./support/processes";
import { portsOf } from "./support/stack";

const SCENARIO = 4;
/** Bound: spawn → exit. Start-up reads the build and the configuration, then stops at the directory check. */
const EXIT_BOUND_MS = 20_000;

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const MOUNTS: { name: string; options: string; problem: RegExp }[] = [
  { name: "full", options: "size=1m", problem: /has no room for a new database \(\d+\.\d MiB free, 64\.0 MiB needed\)/ },
  { name: "read-only", options: "ro,size=1m", problem: /is on a read-only file system \(EROFS\)/ },
];

let scratch: string;
const mounted: string[] = [];
beforeAll(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), "litstatus-faults-pglite-"));
  for (const { name, options } of MOUNTS) {
    const target = path.join(scratch, name);
    mkdirSync(target);
    await run("mount", ["-t", "tmpfs", "-o", options, "tmpfs", target]);
    mounted.push(target);
  }
  // The full one: filled to the last byte, as a disk that ran out of space.
  await run("sh", ["-c", `head -c 2000000 /dev/zero > ${path.join(scratch, "full", "filler")} 2>/dev/null; true`]);
});
afterAll(async () => {
  for (const target of mounted.splice(0)) await run("umount", [target]).catch((error: unknown) => console.error(error));
  // rmdir, never a recursive remove: a mount point that failed to unmount stays, and says so.
  for (const { name } of MOUNTS) if (existsSync(path.join(scratch, name))) rmdirSync(path.join(scratch, name));
  rmdirSync(scratch);
});

describe("the embedded database directory unusable at start", () => {
  const figures: string[] = [];
  afterAll(() => console.log(`pglite directory: ${figures.join("; ")}`));

  it.each(MOUNTS)("$name: one clear line, exit status 73, nothing half written", async ({ name, problem }) => {
    const dataDir = path.join(scratch, name, "pglite");
    const before = readdirSync(path.join(scratch, name));
    const started = Date.now();
    const proc = spawnApp(`embedded on a ${name} directory`, portsOf(SCENARIO).apps[0], {
      AUTH_SECRET: TEST_AUTH_SECRET,
      PGLITE_DATA_DIR: dataDir,
      LOG_LEVEL: "info",
    });
    const timer = setTimeout(() => proc.child.kill("SIGKILL"), EXIT_BOUND_MS);
    const exit = await proc.exited;
    clearTimeout(timer);
    const ms = Date.now() - started;

    expect(exit, proc.output()).toEqual({ code: EXIT_DATA_DIR_UNUSABLE, signal: null });
    expect(ms).toBeLessThanOrEqual(EXIT_BOUND_MS);
    const lines = proc.stderr().split("\n").filter((line) => line.trim() !== "");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^litstatus: the embedded database directory ${escapeRegExp(dataDir)} ${problem.source}: fix it, or set DATABASE_URL to use PostgreSQL$`));
    // No stack trace anywhere, and nothing left behind in the directory for a later start to trip on.
    expect(proc.output()).not.toMatch(/^\s+at /m);
    expect(readdirSync(path.join(scratch, name)).filter((f) => !before.includes(f))).toEqual(name === "full" ? ["pglite"] : []);
    if (name === "full") expect(readdirSync(dataDir)).toEqual([]);
    figures.push(`${name}: exit ${exit.code} after ${ms} ms (bound ${EXIT_BOUND_MS}): "${lines[0]}"`);
  });

  it(`the shipped supervisors do not restart on ${EXIT_DATA_DIR_UNUSABLE}`, () => {
    // systemd (deploy.sh vps): Restart=on-failure, except on this status.
    const unit = readFileSync(path.join(REPO_ROOT, "deploy", "litstatus.service"), "utf8").split("\n");
    expect(unit).toContain("Restart=on-failure");
    expect(unit).toContain(`RestartPreventExitStatus=${EXIT_DATA_DIR_UNUSABLE}`);
    // docker compose: its replicas always run on PostgreSQL, so the embedded directory is never opened there.
    const compose = readFileSync(path.join(REPO_ROOT, "docker-compose.yml"), "utf8");
    expect(compose).toMatch(/^x-app-environment: &app-environment\n(?:  .*\n)*?  DATABASE_URL: postgres:\/\/\S+/m);
  });
});
