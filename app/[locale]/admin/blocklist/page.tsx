import type { Metadata } from "next";
import { setRequestLocale } from "next-intl/server";
import { BlockForm } from "@/components/admin/security/block-form";
import { RemoveBlockButton } from "@/components/admin/security/remove-button";
import { requireConsoleViewer } from "@/lib/admin/console";
import { listBlocklist } from "@/lib/admin/security";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Blocklist" };

function When({ iso }: { iso: string }) {
  return <time dateTime={iso}>{`${iso.slice(0, 19).replace("T", " ")} UTC`}</time>;
}

export default async function BlocklistPage({ params }: { params: Promise<{ locale: string }> }) {
  const { locale } = await params;
  setRequestLocale(locale);
  const viewer = await requireConsoleViewer();
  const isAdmin = viewer.role === "admin";
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
        <div className="table-scroll" tabIndex={0} role="region" aria-label="Blocklist entries">
          <table className="table" data-testid="blocklist-table">
            <thead>
              <tr>
                <th scope="col">Address or range</th>
                <th scope="col">Reason</th>
                <th scope="col">Added by</th>
                <th scope="col">Added</th>
                <th scope="col">Expires</th>
                {isAdmin ? <th scope="col">Action</th> : null}
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.id}>
                  <th scope="row" className="nowrap">
                    {e.target}
                  </th>
                  <td className="wrap-word">{e.reason}</td>
                  <td className="wrap-word">{e.createdBy ?? <span className="muted">–</span>}</td>
                  <td className="nowrap">
                    <When iso={e.createdAt} />
                  </td>
                  <td className="nowrap">
                    <When iso={e.expiresAt} />
                  </td>
                  {isAdmin ? (
                    <td>
                      <RemoveBlockButton id={e.id} target={e.target} />
                    </td>
                  ) : null}
                </tr>
              ))}
              {entries.length === 0 ? (
                <tr>
                  <td colSpan={isAdmin ? 6 : 5} className="muted">
                    Nothing is blocked.
                  </td>
                </tr>
              ) : null}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}
