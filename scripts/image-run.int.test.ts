import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * Image hygiene without Docker (issue 11 item 4): the Dockerfile's run stage, laid out and run
 * the way the image would. The files its COPY lines put in the image (the standalone build as
 * /app, scripts/start.mjs as /app/start.mjs) go into a scratch `app/` owned by root and made
 * read-only; the directories its RUN line hands to the image's user (/app/.data for PGlite,
 * /app/.next/cache) are owned by `nobody`. The Dockerfile's CMD then runs in WORKDIR as nobody
 * (setpriv, no supplementary groups) with the Dockerfile's ENV, and the test checks:
 *   - the server process runs as uid/gid 65534;
 *   - GET /api/health 200, GET /en 200 with the page title, a /_next/static asset 200;
 *   - the Dockerfile's HEALTHCHECK command, run as nobody, exits 0 (and 1 against a closed port);
 *   - as that user the code cannot be changed (EACCES on overwrite and on a new file) while the
 *     data directory can be written, and after the run no file of the code changed;
 *   - the embedded database was created in the data directory (the volume the image documents).
 * Real-store suite only: CI builds before it. There a missing build or not being root fails.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const STANDALONE = path.join(ROOT, ".next", "standalone");
const real = Boolean(process.env.TEST_DATABASE_URL);
/** Inside this helper's port range (6000-6099). */
const PORT = 6020;
const CLOSED_PORT = 6021;
const NOBODY = 65534;
/** Generous: PGlite's first start creates and migrates its database (measured 10-50 s on a loaded 2-core machine). */
const STARTUP_BOUND_MS = 90_000;
const AUTH_SECRET = "image-run-test-signing-secret-0123456789abcdef";

/* ------------------------------------------------------------------ the Dockerfile's run stage */

interface RunStage {
  workdir: string;
  env: Record<string, string>;
  /** [build-stage path, image path] */
  copies: [string, string][];
  /** Directories the image hands to its user (RUN … chown). */
  ownedByUser: string[];
  user: string;
  healthcheck: string;
  cmd: string[];
}

function readRunStage(): RunStage {
  const text = readFileSync(path.join(ROOT, "Dockerfile"), "utf8").replace(/\\\n/g, " ");
  const stages = text.split(/^FROM\s+/m);
  const lines = stages
    .at(-1)!
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  const stage: RunStage = { workdir: "/", env: {}, copies: [], ownedByUser: [], user: "root", healthcheck: "", cmd: [] };
  for (const line of lines.slice(1)) {
    const [keyword = "", ...rest] = line.split(/\s+/);
    const args = rest.join(" ");
    switch (keyword.toUpperCase()) {
      case "WORKDIR":
        stage.workdir = path.posix.resolve(stage.workdir, args);
        break;
      case "ENV":
        for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(\S+)/g)) stage.env[m[1]!] = m[2]!;
        break;
      case "COPY": {
        const words = args.split(/\s+/).filter((w) => !w.startsWith("--"));
        if (!args.includes("--from=")) throw new Error(`the run stage copies from the context: ${line}`);
        const dest = path.posix.resolve(stage.workdir, words.at(-1)!);
        for (const source of words.slice(0, -1)) stage.copies.push([source, words.at(-1)!.endsWith("/") ? dest + "/" : dest]);
        break;
      }
      case "RUN":
        // `mkdir -p /app/.data /app/.next/cache && chown node:node /app/.data /app/.next/cache`
        if (/\bchown\b/.test(args)) {
          const dirs = [...args.matchAll(/\s(\/app\/\S+)/g)].map((m) => m[1]!);
          stage.ownedByUser = [...new Set([...stage.ownedByUser, ...dirs])];
        }
        break;
      case "USER":
        stage.user = args;
        break;
      case "HEALTHCHECK":
        stage.healthcheck = args.replace(/^(--\S+\s+)*CMD\s+/, "");
        break;
      case "CMD":
        stage.cmd = JSON.parse(args) as string[];
        break;
    }
  }
  return stage;
}

/** Where a build-stage path of the image comes from in this checkout (the build stage works in /app). */
function checkoutPath(buildPath: string): string {
  if (!buildPath.startsWith("/app/")) throw new Error(`unexpected build-stage path ${buildPath}`);
  return path.join(ROOT, buildPath.slice("/app/".length));
}

/** Every file and directory under `dir` with what would show a change (size, mtime, mode, owner). */
function manifest(dir: string, skip: Set<string>, base = dir, out = new Map<string, string>()): Map<string, string> {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (skip.has(full)) continue;
    const stat = lstatSync(full);
    out.set(path.relative(base, full), `${stat.size}:${stat.mtimeMs}:${stat.mode}:${stat.uid}`);
    if (stat.isDirectory()) manifest(full, skip, base, out);
  }
  return out;
}

/** Runs a command as nobody:nogroup without supplementary groups. */
function asNobody(command: string[], options: { cwd: string; env: NodeJS.ProcessEnv }) {
  return spawnSync("setpriv", [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "--", ...command], { ...options, encoding: "utf8", timeout: 15_000 });
}

const IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The file a command name runs, looked up on the image's PATH. */
function resolveOnPath(command: string): string {
  if (command.includes("/")) return command;
  const found = IMAGE_PATH.split(":").map((dir) => path.join(dir, command)).find((file) => existsSync(file));
  if (!found) throw new Error(`${command} is not on ${IMAGE_PATH}`);
  return found;
}

describe.skipIf(!real)("the image's run stage without Docker: read-only code, unprivileged user (real-store suite: needs the build CI makes first)", () => {
  const stage = readRunStage();
  let scratch: string;
  let app: string;
  let server: ChildProcess | undefined;
  let output = "";
  let before: Map<string, string>;
  let dataDirs: string[];
  let env: NodeJS.ProcessEnv;
  let startupMs = 0;
  let layoutMs = 0;
  const url = `http://127.0.0.1:${PORT}`;

  beforeAll(async () => {
    if (!existsSync(path.join(STANDALONE, "server.js"))) throw new Error(`no production build at ${STANDALONE}: CI runs npm run build before this suite`);
    if (process.getuid?.() !== 0) throw new Error("this test lays files out as root and runs the server as nobody: run it as root (CI does)");
    const hasSetpriv = spawnSync("setpriv", ["--version"]).status === 0;
    if (!hasSetpriv) throw new Error("setpriv (util-linux) is required");

    expect(stage.workdir).toBe("/app");
    expect(stage.user).not.toMatch(/^(root|0)$/);
    expect(stage.cmd.length).toBeGreaterThan(0);
    expect(stage.copies.length).toBeGreaterThan(0);

    const layoutStarted = Date.now();
    scratch = mkdtempSync(path.join(tmpdir(), "litstatus-image-"));
    chmodSync(scratch, 0o755); // nobody must reach app/ inside it
    app = path.join(scratch, "app");
    const inImage = (imagePath: string) => path.join(app, path.posix.relative(stage.workdir, imagePath.replace(/\/$/, "")));
    for (const [source, dest] of stage.copies) {
      const from = checkoutPath(source);
      expect(existsSync(from), `${source} (${from}) exists`).toBe(true);
      // `COPY dir ./` copies the directory's contents; `COPY file ./name` the file.
      cpSync(from, inImage(dest), { recursive: true });
    }
    // The code: root's, and nobody may write it (stricter than the image, which keeps COPY's modes).
    spawnSync("chown", ["-R", "0:0", app]);
    expect(spawnSync("chmod", ["-R", "a-w", app]).status).toBe(0);
    // The image's RUN line: its user's writable directories.
    dataDirs = stage.ownedByUser.map(inImage);
    expect(dataDirs.map((d) => path.relative(app, d)).sort()).toEqual([".data", ".next/cache"]);
    for (const dir of dataDirs) {
      mkdirSync(dir, { recursive: true });
      chownSync(dir, NOBODY, NOBODY);
      chmodSync(dir, 0o755);
    }
    before = manifest(app, new Set(dataDirs));

    const probe = spawnSync("bash", ["-c", `exec 3<>/dev/tcp/127.0.0.1/${PORT}`]);
    if (probe.status === 0) throw new Error(`port ${PORT} is already taken`);

    layoutMs = Date.now() - layoutStarted;
    env = { PATH: IMAGE_PATH, HOME: "/nonexistent", ...stage.env, PORT: String(PORT), AUTH_SECRET } as unknown as NodeJS.ProcessEnv;
    const started = Date.now();
    server = spawn("setpriv", [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "--", ...stage.cmd], { cwd: app, env, stdio: ["ignore", "pipe", "pipe"] });
    server.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    server.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    for (;;) {
      if (server.exitCode !== null) throw new Error(`the server exited (${server.exitCode}) before answering:\n${output}`);
      if (Date.now() - started > STARTUP_BOUND_MS) throw new Error(`no /api/health within ${STARTUP_BOUND_MS} ms:\n${output}`);
      if (await fetch(`${url}/api/health`).then((r) => r.ok, () => false)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    startupMs = Date.now() - started;
  }, STARTUP_BOUND_MS + 60_000);

  afterAll(async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server!.once("exit", resolve));
      server.kill("SIGTERM");
      const timer = setTimeout(() => server!.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it("runs the Dockerfile's CMD as nobody, without supplementary groups", () => {
    const status = readFileSync(`/proc/${server!.pid}/status`, "utf8");
    const ids = (field: string) => new RegExp(`^${field}:[ \\t]*(.*)$`, "m").exec(status)?.[1]?.trim().split(/\s+/).filter(Boolean);
    expect(ids("Uid")).toEqual([`${NOBODY}`, `${NOBODY}`, `${NOBODY}`, `${NOBODY}`]);
    expect(ids("Gid")).toEqual([`${NOBODY}`, `${NOBODY}`, `${NOBODY}`, `${NOBODY}`]);
    expect(ids("Groups") ?? []).toEqual([]);
    // setpriv execs the command, so this pid is the CMD's node (Next renames its title to
    // next-server, so the binary and the working directory tell, not the command line).
    expect(realpathSync(`/proc/${server!.pid}/exe`)).toBe(realpathSync(resolveOnPath(stage.cmd[0]!)));
    // start.mjs chdirs into the folder of server.js: /app in the image.
    expect(realpathSync(`/proc/${server!.pid}/cwd`)).toBe(realpathSync(app));
    console.log(`image run: layout (copy, chown, chmod) ${layoutMs} ms; ${stage.cmd.join(" ")} as uid ${NOBODY}, /api/health after ${startupMs} ms (bound ${STARTUP_BOUND_MS} ms)`);
  });

  it("serves /api/health, the English page with its title and the page's static assets", async () => {
    const health = await fetch(`${url}/api/health`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { status: string }).status).toBe("ok");

    const page = await fetch(`${url}/en`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    const html = await page.text();
    const common = JSON.parse(readFileSync(path.join(ROOT, "messages/en/common.json"), "utf8")) as { meta: { title: string } };
    expect(/<title>([^<]*)<\/title>/.exec(html)?.[1]).toBe(common.meta.title);

    // Static files are served from the copied output (standalone-assets put them there).
    const asset = /(\/_next\/static\/[^"']+\.(?:js|css))/.exec(html)?.[1];
    expect(asset, "the page references a /_next/static file").toBeDefined();
    expect((await fetch(`${url}${asset}`)).status).toBe(200);
  });

  it("passes the Dockerfile's HEALTHCHECK run as the same user, which fails against a closed port", () => {
    const ok = asNobody(["/bin/sh", "-c", stage.healthcheck], { cwd: app, env });
    expect(ok.status, ok.stderr).toBe(0);
    const closed = asNobody(["/bin/sh", "-c", stage.healthcheck], { cwd: app, env: { ...env, PORT: String(CLOSED_PORT) } });
    expect(closed.status).toBe(1);
  });

  it("cannot change its own code as its user, can write its data directory, and changed no file of the code", () => {
    const tryWrite = (file: string) =>
      asNobody([process.execPath, "-e", `try { require("fs").writeFileSync(${JSON.stringify(file)}, "x"); console.log("written") } catch (e) { console.log(e.code) }`], { cwd: app, env });
    expect(tryWrite(path.join(app, "server.js")).stdout.trim()).toBe("EACCES");
    expect(tryWrite(path.join(app, "start.mjs")).stdout.trim()).toBe("EACCES");
    expect(tryWrite(path.join(app, "injected.js")).stdout.trim()).toBe("EACCES");
    expect(tryWrite(path.join(app, ".next", "server", "injected.js")).stdout.trim()).toBe("EACCES");
    const dataProbe = path.join(app, ".data", "write-probe");
    expect(tryWrite(dataProbe).stdout.trim()).toBe("written");
    rmSync(dataProbe);

    // The embedded database lives in the data directory (what the image's volume keeps).
    expect(existsSync(path.join(app, ".data", "pglite"))).toBe(true);
    const after = manifest(app, new Set(dataDirs));
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter((file) => before.get(file) !== after.get(file));
    expect(changed, "files of the code created, removed or changed while serving").toEqual([]);
    console.log(`image run: ${before.size} code files unchanged; writes refused in the code, allowed in .data`);
  });
});
