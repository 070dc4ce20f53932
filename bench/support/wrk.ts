/**
 * The load generator: Debian's `wrk` (installed here with apt-get when missing), driven by
 * bench/support/load.lua. One wrk thread by default: on a 2-core machine the server needs the
 * other core more than wrk needs a second one.
 */
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";

const LOAD_SCRIPT = path.join(import.meta.dirname, "load.lua");

export interface WrkResult {
  requests: number;
  durationUs: number;
  bytes: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latencyUs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Per HTTP status (soak mode only: counting them costs wrk a response callback). */
  statuses: Record<string, number>;
}

export interface WrkOptions {
  url: string;
  connections: number;
  durationS: number;
  threads?: number;
  /** The load.lua settings (WRK_MODE, WRK_BODY_FILE, …), see that file. */
  script: Record<string, string>;
  /** Seconds wrk waits for one answer before counting a timeout. */
  timeoutS?: number;
}

const wrkAnswers = (): boolean => spawnSync("wrk", ["--version"], { stdio: "ignore" }).error === undefined;

/** wrk on the PATH, installed with apt-get (as root, or through sudo) when it is not. */
export function ensureWrk(): void {
  if (wrkAnswers()) return;
  console.log("bench: installing wrk (apt-get install wrk)");
  const asRoot = process.getuid?.() === 0;
  const run = (args: string[]) => {
    const [command, ...rest] = asRoot ? args : ["sudo", ...args];
    const result = spawnSync(command!, rest, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    return result.status === 0;
  };
  if (!run(["apt-get", "install", "-y", "--no-install-recommends", "wrk"])) {
    run(["apt-get", "update"]);
    run(["apt-get", "install", "-y", "--no-install-recommends", "wrk"]);
  }
  if (!wrkAnswers()) throw new Error("wrk is not installed and apt-get could not install it (install Debian's wrk package)");
}

/** The total of socket errors and answers of 400 or more. */
export function failures(result: WrkResult): number {
  const e = result.errors;
  return e.connect + e.read + e.write + e.status + e.timeout;
}

export function throughput(result: WrkResult): number {
  return result.durationUs > 0 ? result.requests / (result.durationUs / 1e6) : 0;
}

export function parseWrkOutput(output: string): WrkResult {
  const line = output.split("\n").find((l) => l.startsWith("WRK_RESULT "));
  if (!line) throw new Error(`wrk printed no result:\n${output}`);
  return JSON.parse(line.slice("WRK_RESULT ".length)) as WrkResult;
}

export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const threads = options.threads ?? 1;
  const args = [
    `-t${threads}`,
    `-c${Math.max(threads, options.connections)}`,
    `-d${options.durationS}s`,
    `--timeout`,
    `${options.timeoutS ?? 10}s`,
    "-s",
    LOAD_SCRIPT,
    options.url,
  ];
  const child = spawn("wrk", args, {
    env: { PATH: process.env.PATH ?? "", WRK_THREADS: String(threads), ...options.script } as unknown as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", resolve);
  });
  if (code !== 0) throw new Error(`wrk exited with ${code}:\n${output}`);
  return parseWrkOutput(output);
}
