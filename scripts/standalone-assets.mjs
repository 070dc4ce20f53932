/**
 * After `next build`: the standalone server serves `.next/static` and `public/` only from its
 * own folder, and Next does not copy them there. Copies both (replacing older copies), so
 * `npm start` (scripts/start.mjs) serves a complete app.
 */
import { cpSync, existsSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// NEXT_DIST_DIR: a build made into another folder (next.config.ts); the standalone server uses the same name.
const distDir = process.env.NEXT_DIST_DIR?.trim() || ".next";
const standalone = path.join(root, distDir, "standalone");
if (!existsSync(path.join(standalone, "server.js"))) {
  console.error(`standalone-assets: ${distDir}/standalone/server.js is missing (is output: "standalone" set in next.config.ts?)`);
  process.exit(1);
}
for (const [from, to] of [
  [path.join(root, distDir, "static"), path.join(standalone, distDir, "static")],
  [path.join(root, "public"), path.join(standalone, "public")],
]) {
  rmSync(to, { recursive: true, force: true });
  if (existsSync(from)) cpSync(from, to, { recursive: true });
}
