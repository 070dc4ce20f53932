import type { Metadata, Viewport } from "next";
import { hasLocale, NextIntlClientProvider } from "next-intl";
import { getTranslations, setRequestLocale } from "next-intl/server";
import { notFound } from "next/navigation";
import type { ReactNode } from "react";
import { OG_IMAGE, siteOrigin } from "@/components/chrome/site-origin";
import { PageView } from "@/components/page-view";
import { SiteHeader } from "@/components/site-header";
import { routing } from "@/i18n/routing";

/** Title, description and share tags in the page's language; pages set their own titles. */
export async function generateMetadata({ params }: { params: Promise<{ locale: string }> }): Promise<Metadata> {
  const { locale } = await params;
  const [t, origin] = await Promise.all([getTranslations({ locale, namespace: "common" }), siteOrigin()]);
  const title = t("meta.title");
  const description = t("meta.description");
  const images = [{ ...OG_IMAGE, alt: t("meta.imageAlt") }];
  return {
    metadataBase: new URL(origin),
    title: { default: title, template: `%s · ${t("brand")}` },
    description,
    applicationName: t("brand"),
    openGraph: {
      type: "website",
      siteName: t("brand"),
      title,
      description,
      locale: locale === "zh" ? "zh_CN" : "en_US",
      alternateLocale: locale === "zh" ? ["en_US"] : ["zh_CN"],
      images,
    },
    twitter: { card: "summary_large_image", title, description, images },
  };
}

export const viewport: Viewport = {
  width: "device-width",
  initialScale: 1,
  themeColor: [
    { media: "(prefers-color-scheme: light)", color: "#fbfaf8" },
    { media: "(prefers-color-scheme: dark)", color: "#111215" },
  ],
};

export default async function LocaleLayout({ children, params }: { children: ReactNode; params: Promise<{ locale: string }> }) {
  const { locale } = await params;
  if (!hasLocale(routing.locales, locale)) notFound();
  setRequestLocale(locale);
  const t = await getTranslations("common");
  return (
    <html lang={locale === "zh" ? "zh-CN" : "en"}>
      <body>
        <a className="skip-link" href="#main">
          {t("skipToContent")}
        </a>
        <NextIntlClientProvider>
          <PageView />
          <SiteHeader />
          <main id="main">{children}</main>
        </NextIntlClientProvider>
        <footer className="site-footer">{t("footer")}</footer>
      </body>
    </html>
  );
}
