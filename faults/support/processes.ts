/** Child processes of the fault suite (servers, redis-server, pg_ctl): output kept, exits awaited, stops bounded. */
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Proc {
  name: string;
  child: ChildProcess;
  /** Everything written so far, stdout and stderr interleaved (for failure messages). */
  output(): string;
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
  running(): boolean;
  /** SIGTERM (or `signal`), then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<Exit>;
}

export function track(name: string, child: ChildProcess): Proc {
  let output = "";
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
    output += chunk.toString("utf8");
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
    output += chunk.toString("utf8");
  });
  // "close", not "exit": the pipes are drained by then, so the output is complete.
  const exited = new Promise<Exit>((resolve) => child.once("close", (code, signal) => resolve({ code, signal })));
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    child,
    output: () => output,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    running,
    async stop(signal = "SIGTERM", graceMs = 8_000) {
      if (running()) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        const exit = await exited;
        clearTimeout(timer);
        return exit;
      }
      return exited;
    },
  };
}

export function start(name: string, command: string, args: string[], options: SpawnOptions = {}): Proc {
  return track(name, spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...options }));
}

/** Runs a command to its end; rejects with its output unless it exits 0. */
export async function run(command: string, args: string[], options: SpawnOptions = {}): Promise<string> {
  const proc = start(command, command, args, options);
  const exit = await proc.exited;
  if (exit.code !== 0) throw new Error(`${command} ${args.join(" ")} exited ${exit.code ?? exit.signal}:\n${proc.output()}`);
  return proc.stdout();
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface WaitOptions {
  /** Added to the timeout's message. */
  detail?: () => string;
  intervalMs?: number;
  /** A reason to give up at once (e.g. the process being waited on exited), or undefined to go on. */
  giveUpIf?: () => string | undefined;
}

/**
 * Polls `probe` every `intervalMs` (50) until it answers true; resolves with the ms it took,
 * rejects after `timeoutMs`. A probe that throws counts as false.
 */
export async function waitUntil(what: string, probe: () => Promise<boolean> | boolean, timeoutMs: number, options: WaitOptions = {}): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await Promise.resolve().then(probe).catch(() => false)) return Date.now() - started;
    const reason = options.giveUpIf?.();
    if (reason !== undefined) throw new Error(`${what}: ${reason}\n${options.detail?.() ?? ""}`);
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms\n${options.detail?.() ?? ""}`);
    await sleep(options.intervalMs ?? 50);
  }
}
