import type { Metadata } from "next";
import { setRequestLocale } from "next-intl/server";
import { OverviewLive } from "@/components/admin/overview/overview-live";
import { requireConsoleViewer } from "@/lib/admin/console";
import { readOverview } from "@/lib/admin/overview";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Overview" };

/** The console's root: health, breaker, load, latency, errors, today's counts and 24 h charts. */
export default async function OverviewPage({ params }: { params: Promise<{ locale: string }> }) {
  const { locale } = await params;
  setRequestLocale(locale);
  const viewer = await requireConsoleViewer();
  const overview = await readOverview({ details: viewer.role === "admin" });
  return (
    <div className="stack">
      <h1>Overview</h1>
      <OverviewLive initial={overview} />
    </div>
  );
}
