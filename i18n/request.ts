import { hasLocale } from "next-intl";
import { getRequestConfig } from "next-intl/server";
import { routing } from "./routing";

/**
 * Messages live in one file per namespace and locale (messages/<locale>/<namespace>.json) so
 * each area of the UI owns its strings; they are merged here.
 */
const NAMESPACES = ["common", "generator", "errors", "history", "account", "pricing", "signin"] as const;

export default getRequestConfig(async ({ requestLocale }) => {
  const requested = await requestLocale;
  const locale = hasLocale(routing.locales, requested) ? requested : routing.defaultLocale;
  const entries = await Promise.all(
    NAMESPACES.map(async (ns) => [ns, ((await import(`../messages/${locale}/${ns}.json`)) as { default: unknown }).default] as const),
  );
  return { locale, messages: Object.fromEntries(entries) as Record<string, never> };
});
