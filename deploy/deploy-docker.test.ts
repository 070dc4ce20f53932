/**
 * `deploy.sh docker` and `docker-rollback` without a Docker engine: a stand-in `docker` on PATH
 * plays the engine (build records a tag; run starts a small server that answers /api/health with
 * the container's APP_VERSION, or nothing for an image built broken; rm stops it). What is tested
 * is deploy.sh's own logic: tags, the health wait on the new tag's version, the fall back to the
 * previous tag when the new one does not answer, and the rollback on purpose.
 */
import { spawnSync } from "node:child_process";
import { get } from "node:http";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PORT = 5991;

/** The stand-in engine: state in $FAKE_DOCKER_STATE (broken tags, the running container's pid). */
const FAKE_DOCKER = `#!/usr/bin/env bash
set -euo pipefail
state=$FAKE_DOCKER_STATE
cmd=$1; shift
case "$cmd" in
  build)
    tag=$2
    echo "$tag" >>"$state/built"
    if [[ -n \${FAKE_DOCKER_BROKEN:-} ]]; then echo "$tag" >>"$state/broken"; fi ;;
  rm)
    # Like the engine, only return once the container is gone (its port free again).
    if [[ -f $state/pid ]]; then
      pid=$(<"$state/pid"); kill "$pid" 2>/dev/null || true
      while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
      rm -f "$state/pid"
    fi ;;
  run)
    version="" port="" tag="\${*: -1}"
    while [[ $# -gt 1 ]]; do
      case "$1" in
        -e) [[ $2 == APP_VERSION=* ]] && version=\${2#APP_VERSION=}; shift 2 ;;
        -p) port=$(cut -d: -f2 <<<"$2"); shift 2 ;;
        *) shift ;;
      esac
    done
    echo "$tag" >>"$state/ran"
    if grep -qx "$tag" "$state/broken" 2>/dev/null; then exit 0; fi
    nohup node -e 'require("http").createServer((q,r)=>{r.setHeader("content-type","application/json");r.end(JSON.stringify({status:"ok",version:process.argv[1]}))}).listen(Number(process.argv[2]),"127.0.0.1")' "$version" "$port" >/dev/null 2>&1 &
    echo $! >"$state/pid" ;;
  logs) echo "fake logs" ;;
  *) echo "fake docker: unexpected $cmd" >&2; exit 1 ;;
esac
`;

let dir: string;
let env: NodeJS.ProcessEnv;

function deploy(command: string, extra: Record<string, string> = {}) {
  const run = spawnSync("bash", [path.join(ROOT, "deploy.sh"), command], { env: { ...env, ...extra }, encoding: "utf8", timeout: 60_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}
const current = () => readFileSync(path.join(dir, "root/docker-current"), "utf8").trim();
/** A fresh connection each time (a kept-alive one would still point at a container that is gone). */
function servedVersion(): Promise<string | null> {
  return new Promise((resolve) => {
    const req = get({ host: "127.0.0.1", port: PORT, path: "/api/health", agent: false }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve((JSON.parse(body) as { version: string }).version));
    });
    req.on("error", () => resolve(null));
  });
}
/** Tags are per second: the next deploy must not reuse this one's. */
const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1100 - (Date.now() % 1000)));

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "deploy-docker-"));
  for (const sub of ["bin", "state", "root"]) spawnSync("mkdir", ["-p", path.join(dir, sub)]);
  writeFileSync(path.join(dir, "bin/docker"), FAKE_DOCKER);
  chmodSync(path.join(dir, "bin/docker"), 0o755);
  writeFileSync(path.join(dir, "app.env"), `PORT=${PORT}\nAUTH_SECRET=${"s".repeat(40)}\n`);
  env = {
    NODE_ENV: "production",
    PATH: `${path.join(dir, "bin")}:${process.env.PATH}`,
    HOME: dir,
    FAKE_DOCKER_STATE: path.join(dir, "state"),
    DEPLOY_ROOT: path.join(dir, "root"),
    ENV_FILE: path.join(dir, "app.env"),
    HEALTH_WAIT_SECONDS: "5",
  };
});
afterAll(() => {
  spawnSync("bash", ["-c", `f=${path.join(dir, "state/pid")}; [[ -f $f ]] && kill "$(<"$f")" || true`]);
  rmSync(dir, { recursive: true, force: true });
});

describe("deploy.sh docker (a stand-in engine)", () => {
  it("deploys a tag, falls back to the previous tag when the new one does not answer, and rolls back on purpose", async () => {
    const first = deploy("docker");
    expect(first.status, first.stderr).toBe(0);
    const tag1 = current();
    expect(tag1).toMatch(/^litstatus-web:\d{8}T\d{6}Z$/);
    expect(await servedVersion()).toBe(tag1.split(":")[1]);

    await nextSecond();
    const broken = deploy("docker", { FAKE_DOCKER_BROKEN: "1" });
    expect(broken.status).toBe(1);
    expect(broken.stderr).toMatch(/FAILED starting litstatus-web:\S+: .*rolled back to litstatus-web:\S+, healthy/);
    expect(current()).toBe(tag1);
    expect(await servedVersion()).toBe(tag1.split(":")[1]);

    await nextSecond();
    expect(deploy("docker").status).toBe(0);
    const tag3 = current();
    expect(tag3).not.toBe(tag1);
    expect(await servedVersion()).toBe(tag3.split(":")[1]);

    const back = deploy("docker-rollback");
    expect(back.status, back.stderr).toBe(0);
    expect(current()).toBe(tag1);
    expect(await servedVersion()).toBe(tag1.split(":")[1]);
    const ran = readFileSync(path.join(dir, "state/ran"), "utf8").trim().split("\n");
    expect(ran.length).toBe(5); // tag1, broken, tag1 again, tag3, tag1 (rollback)
  }, 60_000);
});
