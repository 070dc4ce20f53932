import nextCoreWebVitals from "eslint-config-next/core-web-vitals";
import tseslint from "typescript-eslint";

/*
 * Layers (README "Layout"): routes and pages (app/), UI (components/) → domain modules (lib/*)
 * → the HTTP policy layer (lib/http) for routes only → foundations (lib/db, lib/kv,
 * lib/observability, lib/util, lib/errors.ts, lib/env.ts), which know nothing above them.
 * Imports go downwards only; tests may reach anywhere.
 */
const restrict = (group, message) => ["error", { patterns: [{ group, message }] }];
const UPWARD = ["@/app/*", "@/components/*", "@/e2e/*"];
const HTTP = ["@/lib/http", "@/lib/http/*"];
const STORES = ["@/lib/db", "@/lib/db/*", "@/lib/kv", "@/lib/kv/*"];
const DOMAIN = ["account", "ai", "analytics", "auth", "events", "feedback", "generation", "health", "quota", "ratelimit", "security", "ui", "wishlist"].flatMap(
  (name) => [`@/lib/${name}`, `@/lib/${name}/*`],
);
const FOUNDATIONS = ["lib/db/**", "lib/kv/**", "lib/observability/**", "lib/util/**", "lib/errors.ts", "lib/env.ts"];
const TESTS = ["**/*.test.ts", "**/*.test.tsx"];

export default tseslint.config(
  {
    ignores: [".next/**", ".next-*/**", "bench/bare/.next/**", "node_modules/**", ".data/**", "e2e/.artifacts/**", "playwright-report/**", "test-results/**", "next-env.d.ts"],
  },
  ...nextCoreWebVitals,
  ...tseslint.configs.recommendedTypeChecked.map((config) => ({ ...config, files: ["**/*.{ts,tsx}"] })),
  {
    files: ["**/*.{ts,tsx}"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
      "@typescript-eslint/require-await": "off",
      "@typescript-eslint/only-throw-error": "error",
      "@typescript-eslint/no-floating-promises": "error",
    },
  },
  {
    // Tests lean on `expect.any(...)` and parsed JSON; the any-flow rules add noise there, not safety.
    files: ["**/*.test.ts", "e2e/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
    },
  },
  {
    // Configuration is read in one place: lib/env.ts validates it.
    files: ["app/**", "components/**", "lib/**"],
    ignores: ["lib/env.ts", "**/*.test.ts"],
    rules: {
      "no-restricted-properties": ["error", { object: "process", property: "env", message: "Read configuration through getEnv() in lib/env.ts." }],
    },
  },
  {
    // Pages, routes and components reach data through domain modules, never the stores directly.
    files: ["app/**", "components/**"],
    ignores: TESTS,
    rules: { "no-restricted-imports": restrict([...STORES, "@/e2e/*"], "app/ and components/ go through a domain module in lib/, never the stores or test support.") },
  },
  {
    // Domain modules: no pages, components or test support, and no HTTP (that is the routes' layer).
    files: ["lib/**"],
    ignores: [...TESTS, "lib/http/**", ...FOUNDATIONS],
    rules: {
      "no-restricted-imports": restrict([...UPWARD, ...HTTP], "lib/ domain modules must not import app/, components/, e2e/ or lib/http (the route layer sits above them)."),
    },
  },
  {
    files: ["lib/http/**"],
    ignores: TESTS,
    rules: { "no-restricted-imports": restrict(UPWARD, "lib/http must not import app/, components/ or e2e/.") },
  },
  {
    // Foundations know nothing of the domain above them.
    files: FOUNDATIONS,
    ignores: TESTS,
    rules: {
      "no-restricted-imports": restrict([...UPWARD, ...HTTP, ...DOMAIN], "Foundations (db, kv, observability, util, errors, env) must not import domain modules, lib/http, app/ or components/."),
    },
  },
);
