import { getTranslations } from "next-intl/server";
import { getPageViewer } from "@/lib/auth/page-viewer";
import { NavLinks } from "./nav-links";

export async function SiteHeader() {
  const t = await getTranslations("common");
  const viewer = await getPageViewer();
  return (
    <header className="site-header">
      <div className="site-header-inner">
        <NavLinks
          signedIn={viewer.kind === "user"}
          labels={{
            brand: t("brand"),
            main: t("nav.main"),
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
  );
}
