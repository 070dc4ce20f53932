#!/usr/bin/env node
/**
 * Adds lockfile entries for other platforms' optional binaries (e.g. @next/swc-darwin-arm64)
 * that npm leaves out when the registry it reaches does not serve them (as on our build
 * machines). Without them `npm ci` refuses the lockfile ("Missing: … from lock file"). The
 * entries carry os/cpu/libc, so npm skips them on every machine they do not fit.
 * Run after changing dependencies: `node scripts/lock-platform-entries.mjs`.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

const check = spawnSync("npm", ["ci", "--dry-run", "--ignore-scripts"], { encoding: "utf8" });
const missing = [...`${check.stdout}${check.stderr}`.matchAll(/Missing: (@?[^@\s]+)@\S* from lock file/g)].map((m) => m[1]);
if (missing.length === 0) {
  console.log("lockfile already complete");
  process.exit(0);
}

const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const OSES = ["darwin", "win32", "linux", "android", "freebsd", "openharmony"];
const CPUS = ["arm64", "x64", "ia32", "arm", "loong64", "ppc64", "riscv64", "s390x"];

for (const name of missing) {
  const parent = Object.values(lock.packages).find((meta) => meta.optionalDependencies?.[name]);
  const version = parent?.optionalDependencies[name];
  const parts = name.split("/").pop().split("-");
  const os = OSES.find((o) => parts.includes(o));
  const cpu = CPUS.find((c) => parts.includes(c));
  if (!version || !os || !cpu) {
    console.error(`cannot place ${name} (version ${version}, os ${os}, cpu ${cpu}); add it by hand`);
    process.exit(1);
  }
  const entry = { version, cpu: [cpu], optional: true, os: [os] };
  if (parts.some((p) => p.startsWith("musl"))) entry.libc = ["musl"];
  else if (parts.some((p) => p.startsWith("gnu"))) entry.libc = ["glibc"];
  lock.packages[`node_modules/${name}`] = entry;
}
writeFileSync("package-lock.json", `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${missing.length} platform entries: ${missing.join(", ")}`);
