import type { MetadataRoute } from "next";
import { siteOrigin } from "@/components/chrome/site-origin";
import { routing } from "@/i18n/routing";

/** Crawlers may read the pages people use; the admin console and the API are off limits. */
export default async function robots(): Promise<MetadataRoute.Robots> {
  const origin = await siteOrigin();
  return {
    rules: {
      userAgent: "*",
      allow: "/",
      disallow: ["/api/", "/admin", ...routing.locales.map((locale) => `/${locale}/admin`)],
    },
    sitemap: `${origin}/sitemap.xml`,
  };
}
