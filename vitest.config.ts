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
    include: ["{lib,app,e2e/support,scripts,deploy,monitoring}/**/*.test.ts"],
    environment: "node",
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    setupFiles: ["e2e/support/harness/setup.ts"],
    // next-intl's ESM imports `next/server` without an extension, which only a bundler resolves:
    // let Vite transform it so proxy.ts can be tested directly.
    server: { deps: { inline: ["next-intl"] } },
  },
});
