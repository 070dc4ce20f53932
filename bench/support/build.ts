/**
 * The two production builds the benchmark serves:
 *
 * - LitStatus, built into NEXT_DIST_DIR (default `.next-bench`, beside the usual `.next`) with
 *   `npm run build`, again whenever a source file is newer than the build;
 * - the bare app of bench/bare (one route returning Response.json), built with the repository's
 *   own `next` into bench/bare/.next, again only when its sources or Next's version change.
 *
 * Both are served by Next's standalone server.js, the way `npm start` serves the app.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

export const REPO_ROOT = path.resolve(import.meta.dirname, "../..");
export const BARE_DIR = path.join(REPO_ROOT, "bench", "bare");
/** Where the bare build's standalone server lands (tracing root = the repository). */
export const BARE_SERVER = path.join(BARE_DIR, ".next", "standalone", "bench", "bare", "server.js");
const BARE_SOURCES = ["app/api/health/route.js", "app/api/model/route.js", "next.config.mjs"];
const BARE_STAMP = path.join(BARE_DIR, ".next", "bench-build.json");

/** What the app's build is made from: anything newer than the build makes it stale. Tests are not. */
const APP_SOURCES = ["app", "lib", "components", "i18n", "messages", "public", "supabase", "instrumentation.ts", "proxy.ts", "next.config.ts", "package-lock.json"];

export function appDistDir(): string {
  return process.env.NEXT_DIST_DIR?.trim() || ".next-bench";
}

function run(command: string, args: string[], options: { cwd: string; env?: Record<string, string> }): void {
  const started = Date.now();
  const result = spawnSync(command, args, { cwd: options.cwd, stdio: "inherit", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", ...options.env } });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (exit ${result.status})`);
  console.log(`bench: ${command} ${args.join(" ")} took ${Math.round((Date.now() - started) / 1000)} s`);
}

/** The newest modification time (ms) among the app's tracked and untracked, not ignored, source files. */
function newestSourceMs(): { ms: number; file: string } {
  const listed = spawnSync("git", ["ls-files", "-co", "--exclude-standard", "--", ...APP_SOURCES], { cwd: REPO_ROOT, encoding: "utf8" });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  let newest = { ms: 0, file: "" };
  for (const file of listed.stdout.split("\n")) {
    if (file === "" || /\.test\.tsx?$/.test(file)) continue;
    const full = path.join(REPO_ROOT, file);
    if (!existsSync(full)) continue; // deleted in the working tree
    const ms = statSync(full).mtimeMs;
    if (ms > newest.ms) newest = { ms, file };
  }
  return newest;
}

/**
 * The app's standalone build in `distDir`, rebuilt when missing or older than a source file
 * (`check: false` takes whatever is there). `next build` rewrites tsconfig.json for a new dist
 * dir: it is put back as it was.
 */
export function ensureAppBuild(distDir: string, check: boolean): void {
  const buildId = path.join(REPO_ROOT, distDir, "BUILD_ID");
  const server = path.join(REPO_ROOT, distDir, "standalone", "server.js");
  if (existsSync(buildId) && existsSync(server)) {
    if (!check) return;
    const newest = newestSourceMs();
    if (newest.ms <= statSync(buildId).mtimeMs) return;
    console.log(`bench: ${distDir} is older than ${newest.file}: rebuilding`);
  } else {
    console.log(`bench: no build in ${distDir}: building`);
  }
  const tsconfig = path.join(REPO_ROOT, "tsconfig.json");
  const before = readFileSync(tsconfig, "utf8");
  try {
    run("npm", ["run", "build"], { cwd: REPO_ROOT, env: { NEXT_DIST_DIR: distDir } });
  } finally {
    if (readFileSync(tsconfig, "utf8") !== before) writeFileSync(tsconfig, before);
  }
}

function bareSourceHash(): string {
  const hash = createHash("sha256");
  const nextPackage = JSON.parse(readFileSync(path.join(REPO_ROOT, "node_modules", "next", "package.json"), "utf8")) as { version: string };
  hash.update(`next@${nextPackage.version}\0`);
  for (const file of BARE_SOURCES) hash.update(`${file}\0`).update(readFileSync(path.join(BARE_DIR, file))).update("\0");
  return hash.digest("hex");
}

/** The bare app's standalone build, reused while its sources and Next's version are unchanged. */
export function ensureBareBuild(): void {
  const hash = bareSourceHash();
  if (existsSync(BARE_SERVER) && existsSync(BARE_STAMP)) {
    const stamp = JSON.parse(readFileSync(BARE_STAMP, "utf8")) as { hash?: string };
    if (stamp.hash === hash) return;
  }
  console.log("bench: building the bare app (bench/bare)");
  const nextBin = path.join(REPO_ROOT, "node_modules", "next", "dist", "bin", "next");
  run(process.execPath, [nextBin, "build"], { cwd: BARE_DIR });
  if (!existsSync(BARE_SERVER)) throw new Error(`the bare build has no standalone server at ${BARE_SERVER}`);
  writeFileSync(BARE_STAMP, `${JSON.stringify({ hash, builtAt: new Date().toISOString() })}\n`);
}
