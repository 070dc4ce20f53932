import type { Metadata } from "next";
import type { ReactNode } from "react";
import { ConsoleNav } from "@/components/admin/console-nav";
import { CONSOLE_PAGES, requireConsoleViewer } from "@/lib/admin/console";

export const dynamic = "force-dynamic";

export const metadata: Metadata = { title: { default: "Console", template: "%s · Console" }, robots: { index: false } };

/** The admin console: admins and moderators only; anyone else gets the 404 page. */
export default async function ConsoleLayout({ children }: { children: ReactNode }) {
  const viewer = await requireConsoleViewer();
  return (
    <div className="console">
      <ConsoleNav pages={CONSOLE_PAGES} role={viewer.role} />
      <div className="console-body">{children}</div>
    </div>
  );
}
