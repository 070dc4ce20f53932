import { defineRouting } from "next-intl/routing";

/**
 * Every page lives under its language: `/en/...` and `/zh/...`; `/` redirects to `/en`. The
 * language comes from the URL, never a guess. (Prefixing every locale also means the proxy
 * never needs an internal rewrite, which Next 16's production server mishandles for
 * unprefixed default-locale paths: it answers them with a redirect to themselves.)
 */
export const routing = defineRouting({
  locales: ["en", "zh"],
  defaultLocale: "en",
  localePrefix: "always",
  localeDetection: false,
});

export type AppLocale = (typeof routing.locales)[number];
