import { execFileSync } from "node:child_process";

/** Drops the throwaway database playwright.config.ts made for this run. */
export default function globalTeardown(): void {
  const url = process.env.E2E_DATABASE_URL;
  if (!url) return;
  const target = new URL(url);
  const name = target.pathname.slice(1);
  if (!/^litstatus_e2e_\d+_\d+$/.test(name)) return;
  target.pathname = "/postgres";
  execFileSync("psql", [target.toString(), "-q", "-c", `drop database if exists ${name} with (force)`], { stdio: "pipe" });
}
