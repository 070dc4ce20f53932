/**
 * `npm run dev`: `next dev` (arguments passed through) with scripts/dev-preload.mjs preloaded
 * into its processes through NODE_OPTIONS, which Next hands on to the dev server it forks.
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
// A file URL: no spaces to split NODE_OPTIONS on, whatever the checkout path.
const preload = `--import=${new URL("./dev-preload.mjs", import.meta.url).href}`;
const nodeOptions = [process.env.NODE_OPTIONS, preload].filter(Boolean).join(" ");
const child = spawn(process.execPath, [require.resolve("next/dist/bin/next"), "dev", ...process.argv.slice(2)], {
  stdio: "inherit",
  env: { ...process.env, NODE_OPTIONS: nodeOptions },
});
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});
