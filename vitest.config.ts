import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@\//, replacement: `${root}/` },
      // `server-only` throws outside a React Server environment; tests run the server code directly.
      { find: /^server-only$/, replacement: `${root}/e2e/support/harness/server-only-stub.ts` },
    ],
  },
  test: {
    include: ["{lib,app,e2e/support,scripts,deploy,monitoring,bench}/**/*.test.ts"],
    environment: "node",
    pool: "forks",
    // Most integration tests wait on servers, timers and sockets, not the CPU: more files at once
    // than cores (vitest's default is cores - 1, one worker on a 2-core CI machine).
    maxWorkers: Math.max(3, availableParallelism() - 1),
    testTimeout: 30_000,
    hookTimeout: 60_000,
    setupFiles: ["e2e/support/harness/setup.ts"],
    // next-intl's ESM imports `next/server` without an extension, which only a bundler resolves:
    // let Vite transform it so proxy.ts can be tested directly.
    server: { deps: { inline: ["next-intl"] } },
  },
});
