import type { Metadata } from "next";
import { openConsolePage, type ConsolePageProps } from "@/components/admin/console-page";
import { When } from "@/components/admin/console-ui";
import { columns, DataTable } from "@/components/admin/data-table";
import { BlockForm } from "@/components/admin/security/block-form";
import { RemoveBlockButton } from "@/components/admin/security/remove-button";
import { listBlocklist } from "@/lib/admin/security";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Blocklist" };

export default async function BlocklistPage({ params }: Pick<ConsolePageProps, "params">) {
  const { isAdmin } = await openConsolePage(params);
  const entries = await listBlocklist();

  return (
    <>
      <h1>Blocklist</h1>
      <p className="muted">
        A blocked address or range gets 403 <code>ip_blocked</code> on every route of every instance within a second. Every entry expires on its own.
      </p>

      {isAdmin ? (
        <section className="card stack" aria-labelledby="bl-add">
          <h2 id="bl-add">Add an entry</h2>
          <BlockForm submitLabel="Add to blocklist" />
        </section>
      ) : null}

      <section className="card stack" aria-labelledby="bl-list">
        <div className="section-head">
          <h2 id="bl-list">Entries in force</h2>
          <p className="muted small" data-testid="blocklist-count">
            {entries.length === 1 ? "1 entry" : `${entries.length} entries`}
          </p>
        </div>
        <DataTable
          testId="blocklist-table"
          region="Blocklist entries"
          rows={entries}
          rowKey={(e) => e.id}
          empty="Nothing is blocked."
          columns={columns<(typeof entries)[number]>(
            { header: "Address or range", rowHeader: true, className: "nowrap", cell: (e) => e.target },
            { header: "Reason", className: "wrap-word", cell: (e) => e.reason },
            { header: "Added by", className: "wrap-word", cell: (e) => e.createdBy ?? <span className="muted">–</span> },
            { header: "Added", className: "nowrap", cell: (e) => <When iso={e.createdAt} /> },
            { header: "Expires", className: "nowrap", cell: (e) => <When iso={e.expiresAt} /> },
            isAdmin && { header: "Action", cell: (e) => <RemoveBlockButton id={e.id} target={e.target} /> },
          )}
        />
      </section>
    </>
  );
}
