import type { Metadata } from "next";
import { getFormatter, getTranslations, setRequestLocale } from "next-intl/server";
import { DeleteAccount } from "@/components/account/delete-account";
import { SignOutButtons } from "@/components/account/sign-out-buttons";
import { UsageChart } from "@/components/account/usage-chart";
import { QuotaMeter } from "@/components/generator/quota-meter";
import { getPathname, Link, redirect } from "@/i18n/navigation";
import { readAccount } from "@/lib/account";
import { getPageViewer } from "@/lib/auth/page-viewer";

export async function generateMetadata({ params }: { params: Promise<{ locale: string }> }): Promise<Metadata> {
  const { locale } = await params;
  const t = await getTranslations({ locale, namespace: "account" });
  return { title: t("metaTitle"), robots: { index: false } };
}

/**
 * An address that wraps only before the "@" (each part stays whole; a part wider than the column
 * ends in an ellipsis, the full address is in the title).
 */
function EmailText({ email }: { email: string }) {
  const at = email.lastIndexOf("@");
  if (at <= 0) return <span className="email-part">{email}</span>;
  return (
    <>
      <span className="email-part">{email.slice(0, at)}</span>
      <wbr />
      <span className="email-part">{email.slice(at)}</span>
    </>
  );
}

export default async function AccountPage({ params }: { params: Promise<{ locale: string }> }) {
  const { locale } = await params;
  setRequestLocale(locale);
  const viewer = await getPageViewer();
  const toSignIn = () =>
    redirect({ href: { pathname: "/signin", query: { next: getPathname({ href: "/account", locale }) } }, locale });
  if (viewer.kind !== "user") return toSignIn();

  const [t, format, account] = await Promise.all([getTranslations("account"), getFormatter(), readAccount(viewer)]);
  // The profile vanished between the session check and now: the account was just deleted.
  if (!account) return toSignIn();
  const { profile: extras, quota, usage } = account;

  return (
    <>
      <h1>{t("title")}</h1>
      <div className="grid-2">
        <section className="card stack account-top" aria-labelledby="account-profile">
          <h2 id="account-profile">{t("profileTitle")}</h2>
          <dl className="facts account-facts" data-testid="account-profile">
            <div>
              <dt>{t("email")}</dt>
              <dd className="account-email" title={viewer.email ?? undefined}>
                {viewer.email ? <EmailText email={viewer.email} /> : <span className="muted">{t("noEmail")}</span>}
              </dd>
            </div>
            <div>
              <dt>{t("plan")}</dt>
              <dd>
                <span className={viewer.plan === "pro" ? "badge badge-pro" : "badge"} data-testid="plan-badge">
                  {t(`plans.${viewer.plan}`)}
                </span>
                {viewer.plan === "free" ? (
                  <>
                    {" "}
                    <Link href="/pricing">{t("seePro")}</Link>
                  </>
                ) : null}
              </dd>
            </div>
            {viewer.role !== "user" ? (
              <div>
                <dt>{t("role")}</dt>
                <dd>{t(`roles.${viewer.role}`)}</dd>
              </div>
            ) : null}
            <div>
              <dt>{t("memberSince")}</dt>
              <dd>
                <time dateTime={extras.createdAt}>{format.dateTime(new Date(extras.createdAt), { dateStyle: "long" })}</time>
              </dd>
            </div>
          </dl>
        </section>

        <section className="card stack account-top" aria-labelledby="account-today">
          <h2 id="account-today">{t("todayTitle")}</h2>
          <p className="big-number" data-testid="usage-today">
            {t("usedToday", { used: quota.used, limit: quota.limit })}
          </p>
          <p className="muted small" style={{ margin: 0 }} data-testid="cached-free">
            {t("cachedFree")}
          </p>
          <QuotaMeter quota={quota} />
          <p className="muted" style={{ margin: 0 }}>
            {t("credits", { credits: quota.credits })}
            {quota.credits > 0 ? ` — ${t("creditsHint")}` : ""}
          </p>
        </section>
      </div>

      <section className="card stack section-gap" aria-labelledby="account-usage">
        <h2 id="account-usage">{t("chartTitle")}</h2>
        <UsageChart usage={usage} />
        <p className="muted small" style={{ margin: 0 }}>
          {t("chartNote")}
        </p>
      </section>

      <section className="card stack section-gap" aria-labelledby="account-sessions">
        <h2 id="account-sessions">{t("sessionsTitle")}</h2>
        <p style={{ margin: 0 }}>{t("sessionsBody")}</p>
        <SignOutButtons />
      </section>

      <section className="card stack section-gap danger-zone" aria-labelledby="account-danger">
        <h2 id="account-danger">{t("dangerTitle")}</h2>
        <p style={{ margin: 0 }}>{t("dangerIntro")}</p>
        <ul className="bullets">
          <li>{t("dangerItems.profile")}</li>
          <li>{t("dangerItems.history")}</li>
          <li>{t("dangerItems.usage")}</li>
          <li>{t("dangerItems.feedback")}</li>
        </ul>
        <p style={{ margin: 0 }}>{t("dangerKept")}</p>
        <DeleteAccount />
      </section>
    </>
  );
}
