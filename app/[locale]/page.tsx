import { getTranslations, setRequestLocale } from "next-intl/server";
import { headers } from "next/headers";
import { Generator } from "@/components/generator/generator";
import { getPageViewer } from "@/lib/auth/page-viewer";
import { getEnv } from "@/lib/env";
import { clientIpFrom } from "@/lib/http/client-ip";
import { dailyLimit, planOf, readQuota } from "@/lib/quota";

export default async function HomePage({ params }: { params: Promise<{ locale: string }> }) {
  const { locale } = await params;
  setRequestLocale(locale);
  const env = getEnv();
  const [t, tc, viewer] = await Promise.all([getTranslations("generator"), getTranslations("common"), getPageViewer()]);
  const ip = clientIpFrom(await headers(), { header: env.TRUST_PROXY_HEADER, hops: env.TRUST_PROXY_HOPS });
  const quota = await readQuota(viewer, ip);
  const demo = !env.OPENAI_API_KEY;
  return (
    <>
      <h1>{t("title")}</h1>
      <p className="muted">{t("subtitle")}</p>
      {demo ? (
        <p className="banner banner-warn" role="note" data-testid="demo-banner">
          {tc("demoBanner")}
        </p>
      ) : null}
      <Generator viewer={planOf(viewer)} initialQuota={quota} demo={demo} userLimit={dailyLimit("free")} />
    </>
  );
}
