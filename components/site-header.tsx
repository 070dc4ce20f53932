import { getTranslations } from "next-intl/server";
import { Suspense } from "react";
import { getPageViewer } from "@/lib/auth/page-viewer";
import { SignedInToast } from "./chrome/signed-in-toast";
import { NavLinks } from "./nav-links";

export async function SiteHeader() {
  const [t, ts] = await Promise.all([getTranslations("common"), getTranslations("signin")]);
  const viewer = await getPageViewer();
  const signedIn = viewer.kind === "user";
  return (
    <>
      <header className="site-header">
        <div className="site-header-inner">
          <NavLinks
            signedIn={signedIn}
            labels={{
              brand: t("brand"),
              main: t("nav.main"),
              menu: t("nav.menu"),
              generate: t("nav.generate"),
              history: t("nav.history"),
              pricing: t("nav.pricing"),
              account: t("nav.account"),
              signIn: t("nav.signIn"),
              language: t("language.label"),
            }}
          />
        </div>
      </header>
      {signedIn ? (
        // It reads the page's query (the flag the sign-in link lands with): a boundary of its own.
        <Suspense fallback={null}>
          <SignedInToast
            message={viewer.email ? ts("signedInAs", { email: viewer.email }) : ts("signedIn")}
            dismissLabel={ts("dismiss")}
          />
        </Suspense>
      ) : null}
    </>
  );
}
