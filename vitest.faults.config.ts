import { defineConfig } from "vitest/config";
import main from "./vitest.config";

/**
 * The fault suite (`npm run test:faults`, docs/RELIABILITY.md): production servers on real stores
 * that the tests break on purpose. One file at a time: the scenarios load a 2-core machine, and each
 * owns its ports and stores. Not part of the main config's include.
 */
export default defineConfig({
  // The main config's aliases (`@/`, and the `server-only` stub: the suite imports some server code).
  resolve: main.resolve,
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
