import type { MetadataRoute } from "next";
import { siteOrigin } from "@/components/chrome/site-origin";
import { routing } from "@/i18n/routing";

/** The public pages (the others are per person and not indexed), each in every language. */
const PUBLIC_PATHS = ["", "/pricing"] as const;

export default async function sitemap(): Promise<MetadataRoute.Sitemap> {
  const origin = await siteOrigin();
  const url = (locale: string, path: string) => `${origin}/${locale}${path}`;
  return PUBLIC_PATHS.flatMap((path) =>
    routing.locales.map((locale) => ({
      url: url(locale, path),
      changeFrequency: "weekly" as const,
      priority: path === "" ? 1 : 0.7,
      alternates: { languages: Object.fromEntries(routing.locales.map((l) => [l === "zh" ? "zh-CN" : l, url(l, path)])) },
    })),
  );
}
