/**
 * Production servers for the fault suite: `node scripts/start.mjs` on the standalone build, as
 * `npm start`, the Docker image and deploy.sh run it. NEXT_DIST_DIR is passed through, so a
 * developer can run against their own build (`NEXT_DIST_DIR=.next-faults npm run build`); CI uses
 * `.next`. A missing build fails the suite with the command to run: nothing is skipped.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "@/e2e/support/app-server";
import { start, waitUntil, type Proc } from "./processes";

export const DIST_DIR = process.env.NEXT_DIST_DIR?.trim() || ".next";

/** How long a production server may take to answer /api/health after it is spawned. */
const START_BOUND_MS = 60_000;

/** Throws unless the production build the servers run exists. */
export function requireBuild(): void {
  const server = path.join(REPO_ROOT, DIST_DIR, "standalone", "server.js");
  if (!existsSync(server)) {
    const env = DIST_DIR === ".next" ? "" : `NEXT_DIST_DIR=${DIST_DIR} `;
    throw new Error(`fault suite: no production build at ${server}; run \`${env}npm run build\` first (CI builds before this suite)`);
  }
}

export interface App {
  name: string;
  url: string;
  port: number;
  proc: Proc;
}

/** Spawns a server without waiting for it (a server expected to refuse to start). */
export function spawnApp(name: string, port: number, env: Record<string, string>): Proc {
  requireBuild();
  const inherited: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", NEXT_DIST_DIR: DIST_DIR };
  return start(name, process.execPath, ["scripts/start.mjs"], {
    cwd: REPO_ROOT,
    // Only what is listed: never the developer's shell (a stray DATABASE_URL would win over .env loading).
    env: { ...inherited, NEXT_TELEMETRY_DISABLED: "1", LOG_LEVEL: "warn", ...env, PORT: String(port), HOSTNAME: "127.0.0.1" } as unknown as NodeJS.ProcessEnv,
  });
}

/** Starts a server and resolves once /api/health answers 200. */
export async function startApp(name: string, port: number, env: Record<string, string>): Promise<App> {
  const proc = spawnApp(name, port, env);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntil(`${name} (port ${port}) healthy`, async () => (await fetch(`${url}/api/health`)).status === 200, START_BOUND_MS, {
      detail: () => proc.output(),
      intervalMs: 100,
      giveUpIf: () => (proc.running() ? undefined : "exited before it answered"),
    });
  } catch (error) {
    await proc.stop("SIGKILL");
    throw error;
  }
  return { name, url, port, proc };
}
