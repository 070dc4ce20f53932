import { execFileSync } from "node:child_process";

/** Drops the throwaway databases playwright.config.ts made for this run (one per slot). */
export default function globalTeardown(): void {
  for (const url of (process.env.E2E_DATABASE_URLS ?? "").split(",").filter(Boolean)) {
    const target = new URL(url);
    const name = target.pathname.slice(1);
    if (!/^litstatus_e2e_\d+_\d+_\d+$/.test(name)) continue;
    target.pathname = "/postgres";
    execFileSync("psql", [target.toString(), "-q", "-c", `drop database if exists ${name} with (force)`], { stdio: "pipe" });
  }
}
