import { useTranslations } from "next-intl";
import { Link } from "@/i18n/navigation";

export default function NotFound() {
  const t = useTranslations("common.notFound");
  return (
    <>
      <h1>{t("title")}</h1>
      <p className="muted">{t("body")}</p>
      <p>
        <Link href="/">{t("home")}</Link>
      </p>
    </>
  );
}
