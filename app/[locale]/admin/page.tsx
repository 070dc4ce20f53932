import type { Metadata } from "next";
import { openConsolePage, type ConsolePageProps } from "@/components/admin/console-page";
import { OverviewLive } from "@/components/admin/overview/overview-live";
import { readOverview } from "@/lib/admin/overview";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Overview" };

/** The console's root: health, breaker, load, latency, errors, today's counts and 24 h charts. */
export default async function OverviewPage({ params }: Pick<ConsolePageProps, "params">) {
  const { isAdmin } = await openConsolePage(params);
  const overview = await readOverview({ details: isAdmin });
  return (
    <div className="stack">
      <h1>Overview</h1>
      <OverviewLive initial={overview} />
    </div>
  );
}
