import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL(".", import.meta.url));

/**
 * The fault suite (`npm run test:faults`, docs/RELIABILITY.md): production servers on real stores
 * that the tests break on purpose. One file at a time: the scenarios load a 2-core machine, and each
 * owns its ports and stores. Not part of the main config's include.
 */
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@\//, replacement: `${root}/` },
      // `server-only` throws outside a React Server environment; the suite imports some server code (tokens, migrations).
      { find: /^server-only$/, replacement: `${root}/e2e/support/harness/server-only-stub.ts` },
    ],
  },
  test: {
    include: ["faults/**/*.fault.test.ts"],
    environment: "node",
    pool: "forks",
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    setupFiles: ["e2e/support/harness/setup.ts"],
  },
});
