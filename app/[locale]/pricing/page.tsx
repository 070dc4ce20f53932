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
    <span className="plan-mark" aria-hidden="true">
      ✓
    </span>
  );
  const no = (
    <span className="plan-mark muted" aria-hidden="true">
      —
    </span>
  );
  /** A feature every plan lists: a value ("3 a day") or included / not included. */
  const features: { key: string; cells: Record<QuotaPlan, string | boolean> }[] = [
    {
      key: "daily",
      cells: {
        guest: t("perDay", { count: env.GUEST_DAILY_LIMIT }),
        free: t("perDay", { count: env.USER_DAILY_LIMIT }),
        pro: t("fairUse", { count: env.PRO_DAILY_LIMIT }),
      },
    },
    { key: "photo", cells: { guest: false, free: false, pro: true } },
    { key: "history", cells: { guest: t("historyDevice"), free: t("historyAccount"), pro: t("historyAccount") } },
    { key: "vibes", cells: { guest: true, free: true, pro: true } },
    { key: "languages", cells: { guest: true, free: true, pro: true } },
  ];
  const feature = (key: string, cell: string | boolean): ReactNode => {
    if (typeof cell === "string") {
      return (
        <>
          {yes}
          <span>
            <span className="plan-feature-label">{t(`rows.${key}`)}</span> <strong>{cell}</strong>
          </span>
        </>
      );
    }
    return (
      <>
        {cell ? yes : no}
        <span className={cell ? undefined : "muted"}>
          <span className="sr-only">{t(cell ? "included" : "notIncluded")}: </span>
          {t(`rows.${key}`)}
        </span>
      </>
    );
  };
  const cta: Record<QuotaPlan, ReactNode> = {
    guest:
      current === "guest" ? (
        <Link className="btn btn-block plan-cta" href="/">
          {t("ctaGuest")}
        </Link>
      ) : null,
    free:
      current === "guest" ? (
        <Link className="btn btn-block plan-cta" href="/signin">
          {t("ctaFree")}
        </Link>
      ) : null,
    pro: current === "pro" ? null : <UpgradeLink label={t("ctaPro")} />,
  };

  return (
    <>
      <h1>{t("title")}</h1>
      <p className="muted">{t("subtitle")}</p>

      <ul className="plan-grid" aria-label={t("plansRegion")} data-testid="plans">
        {PLANS.map((plan) => (
          <li key={plan} className={plan === current ? "card plan-card plan-current" : "card plan-card"} data-plan={plan}>
            <div className="plan-head">
              <h2 className="plan-name">{t(`plans.${plan}`)}</h2>
              {plan === current ? <span className="badge">{t("yourPlan")}</span> : null}
            </div>
            <p className="plan-price">
              {t.rich(`prices.${plan}`, {
                amount: (chunks) => <span className="plan-amount">{chunks}</span>,
                period: (chunks) => <span className="plan-period">{chunks}</span>,
              })}
            </p>
            <p className="plan-note">{t(`planNotes.${plan}`)}</p>
            <ul className="plan-features">
              {features.map((f) => (
                <li key={f.key}>{feature(f.key, f.cells[plan])}</li>
              ))}
            </ul>
            {cta[plan] ? <div className="plan-actions">{cta[plan]}</div> : null}
          </li>
        ))}
      </ul>

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
