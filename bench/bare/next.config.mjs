import path from "node:path";
import { fileURLToPath } from "node:url";

// The repository root: its node_modules hold the one `next` both apps are built with.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The bare app of `npm run bench`: served like LitStatus, by Next's standalone server. */
const nextConfig = {
  output: "standalone",
  poweredByHeader: false,
  outputFileTracingRoot: root,
  turbopack: { root },
};

export default nextConfig;
