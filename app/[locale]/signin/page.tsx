import type { Metadata } from "next";
import { getTranslations, setRequestLocale } from "next-intl/server";
import { SignInForm } from "@/components/auth/sign-in-form";
import { withSignedInFlag } from "@/components/chrome/signed-in-flag";
import { Link } from "@/i18n/navigation";
import { SIGN_IN_LINK_TTL_MINUTES, safeNextPath } from "@/lib/auth/local";
import { authMode } from "@/lib/auth/mode";
import { getPageViewer } from "@/lib/auth/page-viewer";
import { getEnv } from "@/lib/env";

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

export async function generateMetadata({ params }: { params: Promise<{ locale: string }> }): Promise<Metadata> {
  const { locale } = await params;
  const t = await getTranslations({ locale, namespace: "signin" });
  return { title: t("metaTitle"), robots: { index: false } };
}

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

export default async function SignInPage({ params, searchParams }: { params: Promise<{ locale: string }>; searchParams: SearchParams }) {
  const { locale } = await params;
  setRequestLocale(locale);
  const env = getEnv();
  const [t, query, viewer] = await Promise.all([getTranslations("signin"), searchParams, getPageViewer()]);

  if (viewer.kind === "user") {
    return (
      <>
        <h1>{t("signedInTitle")}</h1>
        <div className="card stack narrow" data-testid="signed-in">
          <p style={{ margin: 0 }}>{viewer.email ? t("signedInAs", { email: viewer.email }) : t("signedIn")}</p>
          <div className="actions">
            <Link className="btn btn-primary" href="/account">
              {t("goAccount")}
            </Link>
            <Link className="btn" href="/">
              {t("goGenerator")}
            </Link>
          </div>
        </div>
      </>
    );
  }

  // Where the link lands: a same-site path from ?next=, else this language's generator; flagged
  // so that page confirms the sign-in.
  const requested = first(query.next);
  const fallback = locale === "zh" ? "/zh" : "/";
  const next = withSignedInFlag(requested ? safeNextPath(requested) : fallback);
  return (
    <>
      <h1>{t("title")}</h1>
      <p className="muted">{t("subtitle")}</p>
      <SignInForm
        next={next}
        linkInvalid={first(query.error) === "link_invalid"}
        mode={authMode(env)}
        ttlMinutes={SIGN_IN_LINK_TTL_MINUTES}
        perks={t("perks", { limit: env.USER_DAILY_LIMIT })}
      />
    </>
  );
}
