import type { NextConfig } from "next";
import createNextIntlPlugin from "next-intl/plugin";

const withNextIntl = createNextIntlPlugin("./i18n/request.ts");

const nextConfig: NextConfig = {
  output: "standalone",
  // A separate build directory lets a second dev server run beside the usual one (tests, tools).
  ...(process.env.NEXT_DIST_DIR ? { distDir: process.env.NEXT_DIST_DIR } : {}),
  poweredByHeader: false,
  // `npm run typecheck` (tsc --noEmit over the whole tree) is the type check, and CI runs it
  // before building; checking again inside the build only doubled the time.
  typescript: { ignoreBuildErrors: true },
  reactStrictMode: true,
  // Native/wasm and worker-thread packages stay as plain Node requires on the server.
  serverExternalPackages: ["@electric-sql/pglite", "postgres", "pino", "prom-client"],
  // Files read at run time that tracing cannot see: migrations and PGlite's wasm bundle.
  outputFileTracingIncludes: {
    "/**": ["./supabase/migrations/**", "./node_modules/@electric-sql/pglite/dist/**"],
  },
};

export default withNextIntl(nextConfig);
