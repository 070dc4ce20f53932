/**
 * The production server: `npm start`, the Docker image and deploy.sh run this file.
 *
 * Next's standalone server.js opens its port first and runs instrumentation.ts afterwards, so a
 * bad configuration would exit after the port had accepted connections, and requests arriving
 * in between would reach Next before the peer-address layer exists. Here the order is fixed:
 *
 *   1. load `.env*` from the app root the way Next does (values already in the environment win);
 *   2. make PGLITE_DATA_DIR absolute against the app root (server.js chdirs into its folder);
 *   3. run the built instrumentation's register(): it installs the peer-address layer, checks
 *      the configuration (one stderr line naming the variable, exit 1) and opens the database;
 *   4. only then load server.js, which listens (PORT, HOSTNAME) and calls register() again
 *      (a no-op: it returns the first call's promise).
 *
 * Layouts: in the repository this file is scripts/start.mjs and the server is
 * .next/standalone/server.js (`npm run build` puts static assets and public/ beside it); in the
 * Docker image it is /app/start.mjs beside /app/server.js.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import v8 from "node:v8";

/**
 * Memory: after each full collection V8 lets the old generation grow to a multiple of the live
 * heap before it collects again, up to 4x when collections are cheap. Under load the server
 * committed about 250 MiB of old space for a live set of about 75 MiB (resident memory about
 * 375 MiB; docs/PERFORMANCE.md). It grows to 2x the live heap instead: a growth factor, not a
 * limit, so a larger live set still gets its room. `node --heap-growing-percent=N start.mjs`
 * keeps the operator's N (0: V8's own heuristics).
 */
const HEAP_GROWING_PERCENT = 100;
if (!process.execArgv.some((arg) => /^--heap[-_]growing[-_]percent(=|$)/.test(arg))) {
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

const here = path.dirname(fileURLToPath(import.meta.url));
const packaged = existsSync(path.join(here, "server.js"));
const root = packaged ? here : path.resolve(here, "..");
// NEXT_DIST_DIR: a build made into another folder (next.config.ts), e.g. beside the usual one.
const distDir = process.env.NEXT_DIST_DIR?.trim() || ".next";
const standalone = packaged ? here : path.join(root, distDir, "standalone");

function fail(message) {
  console.error(`litstatus: ${message}`);
  process.exit(1);
}

const serverFile = path.join(standalone, "server.js");
const instrumentationFile = path.join(standalone, distDir, "server", "instrumentation.js");
if (!existsSync(serverFile) || !existsSync(instrumentationFile)) fail(`no production build at ${standalone}: run npm run build first`);

process.env.NODE_ENV = "production";
const require = createRequire(import.meta.url);
// @next/env ships with Next (and inside the standalone output): the same loader `next start` uses.
const { loadEnvConfig } = require(require.resolve("@next/env", { paths: [standalone, root] }));
loadEnvConfig(root, false, { info: () => {}, error: (...args) => console.error(...args) });

const dataDir = process.env.PGLITE_DATA_DIR?.trim() || path.join(".data", "pglite");
process.env.PGLITE_DATA_DIR = path.resolve(root, dataDir);

process.chdir(standalone);
const instrumentation = require(instrumentationFile);
await instrumentation.register();
await import(pathToFileURL(serverFile).href);
