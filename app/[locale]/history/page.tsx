import type { Metadata } from "next";
import { getTranslations, setRequestLocale } from "next-intl/server";
import { GuestHistory, HistoryList } from "@/components/history/history-list";
import { getPageViewer } from "@/lib/auth/page-viewer";
import { listGenerations } from "@/lib/generation/history";
import { RECENT_LIMIT } from "@/lib/ui/recent";

const PAGE_SIZE = 10;

export async function generateMetadata({ params }: { params: Promise<{ locale: string }> }): Promise<Metadata> {
  const { locale } = await params;
  const t = await getTranslations({ locale, namespace: "history" });
  return { title: t("metaTitle"), robots: { index: false } };
}

export default async function HistoryPage({ params }: { params: Promise<{ locale: string }> }) {
  const { locale } = await params;
  setRequestLocale(locale);
  const [t, viewer] = await Promise.all([getTranslations("history"), getPageViewer()]);

  if (viewer.kind !== "user") {
    return (
      <>
        <h1>{t("title")}</h1>
        <p className="muted">{t("subtitleGuest", { count: RECENT_LIMIT })}</p>
        <GuestHistory />
      </>
    );
  }

  // The first page is rendered on the server (no loading flash); paging and filters fetch the API.
  const first = await listGenerations(viewer.id, { limit: PAGE_SIZE, offset: 0 });
  return (
    <>
      <h1>{t("title")}</h1>
      <p className="muted">{t("subtitleUser")}</p>
      <HistoryList initialItems={first.items} initialTotal={first.total} pageSize={PAGE_SIZE} />
    </>
  );
}
