import type { Metadata } from "next";
import { getTranslations, setRequestLocale } from "next-intl/server";
import type { ReactNode } from "react";
import { UpgradeLink, WishlistForm } from "@/components/pricing/wishlist-form";
import { Link } from "@/i18n/navigation";
import { getPageViewer } from "@/lib/auth/page-viewer";
import { getEnv } from "@/lib/env";
import { planOf, type QuotaPlan } from "@/lib/quota";

export async function generateMetadata({ params }: { params: Promise<{ locale: string }> }): Promise<Metadata> {
  const { locale } = await params;
  const t = await getTranslations({ locale, namespace: "pricing" });
  return { title: t("metaTitle") };
}

const PLANS = ["guest", "free", "pro"] as const satisfies readonly QuotaPlan[];

export default async function PricingPage({ params }: { params: Promise<{ locale: string }> }) {
  const { locale } = await params;
  setRequestLocale(locale);
  const env = getEnv();
  const [t, viewer] = await Promise.all([getTranslations("pricing"), getPageViewer()]);
  const current = planOf(viewer);

  const yes = (
    <>
      <span aria-hidden="true" className="check">
        ✓
      </span>
      <span className="sr-only">{t("included")}</span>
    </>
  );
  const no = (
    <>
      <span aria-hidden="true" className="muted">
        —
      </span>
      <span className="sr-only">{t("notIncluded")}</span>
    </>
  );
  const rows: { key: string; cells: Record<QuotaPlan, ReactNode> }[] = [
    {
      key: "daily",
      cells: {
        guest: t("perDay", { count: env.GUEST_DAILY_LIMIT }),
        free: t("perDay", { count: env.USER_DAILY_LIMIT }),
        pro: t("fairUse", { count: env.PRO_DAILY_LIMIT }),
      },
    },
    { key: "photo", cells: { guest: no, free: no, pro: yes } },
    { key: "history", cells: { guest: t("historyDevice"), free: t("historyAccount"), pro: t("historyAccount") } },
    { key: "vibes", cells: { guest: yes, free: yes, pro: yes } },
    { key: "languages", cells: { guest: yes, free: yes, pro: yes } },
  ];

  return (
    <>
      <h1>{t("title")}</h1>
      <p className="muted">{t("subtitle")}</p>

      <div className="card table-scroll" role="region" aria-label={t("tableRegion")} tabIndex={0}>
        <table className="table plan-table" data-testid="plan-table">
          <caption className="sr-only">{t("tableCaption")}</caption>
          <thead>
            <tr>
              <th scope="col">
                <span className="sr-only">{t("feature")}</span>
              </th>
              {PLANS.map((plan) => (
                <th key={plan} scope="col" className={plan === current ? "plan-current" : undefined}>
                  <span className="plan-name">{t(`plans.${plan}`)}</span>
                  <span className="plan-note">{t(`planNotes.${plan}`)}</span>
                  {plan === current ? <span className="badge">{t("yourPlan")}</span> : null}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.key}>
                <th scope="row">{t(`rows.${row.key}`)}</th>
                {PLANS.map((plan) => (
                  <td key={plan} className={plan === current ? "plan-current" : undefined}>
                    {row.cells[plan]}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <td />
              <td>
                {current === "guest" ? (
                  <Link className="btn btn-sm" href="/">
                    {t("ctaGuest")}
                  </Link>
                ) : null}
              </td>
              <td>
                {current === "guest" ? (
                  <Link className="btn btn-sm" href="/signin">
                    {t("ctaFree")}
                  </Link>
                ) : null}
              </td>
              <td>{current === "pro" ? null : <UpgradeLink label={t("ctaPro")} />}</td>
            </tr>
          </tfoot>
        </table>
      </div>

      {current === "pro" ? (
        <p className="notice section-gap" data-testid="already-pro">
          {t("alreadyPro")}
        </p>
      ) : (
        <WishlistForm
          initialEmail={viewer.kind === "user" ? (viewer.email ?? "") : ""}
          intro={t("waitlist.body", { limit: env.PRO_DAILY_LIMIT })}
        />
      )}
    </>
  );
}
