import type { NextConfig } from "next";
import createNextIntlPlugin from "next-intl/plugin";

const withNextIntl = createNextIntlPlugin("./i18n/request.ts");

const nextConfig: NextConfig = {
  output: "standalone",
  poweredByHeader: false,
  reactStrictMode: true,
  // Native/wasm and worker-thread packages stay as plain Node requires on the server.
  serverExternalPackages: ["@electric-sql/pglite", "postgres", "pino", "prom-client"],
  // Files read at run time that tracing cannot see: migrations and PGlite's wasm bundle.
  outputFileTracingIncludes: {
    "/**": ["./supabase/migrations/**", "./node_modules/@electric-sql/pglite/dist/**"],
  },
};

export default withNextIntl(nextConfig);
