import type { Metadata } from "next";
import { firstParam, openConsolePage, type ConsolePageProps } from "@/components/admin/console-page";
import { When } from "@/components/admin/console-ui";
import { DataTable } from "@/components/admin/data-table";
import { ReconcilePanel } from "@/components/admin/users/reconcile-panel";
import { Link } from "@/i18n/navigation";
import { searchUsers } from "@/lib/admin/users";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Users" };

const PAGE_SIZE = 25;

export default async function UsersPage({ params, searchParams }: ConsolePageProps) {
  await openConsolePage(params);
  const sp = await searchParams;
  const q = (firstParam(sp.q) ?? "").slice(0, 320);
  const page = Math.min(Math.max(1, Number.parseInt(firstParam(sp.page) ?? "", 10) || 1), 4000);
  const { items, total } = await searchUsers({ q, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE });
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const pageHref = (n: number) => ({ pathname: "/admin/users", query: { ...(q ? { q } : {}), page: String(n) } });

  return (
    <>
      <h1>Users</h1>
      <section className="card stack" aria-labelledby="users-search">
        <h2 id="users-search">Search</h2>
        <form method="get" role="search" className="row users-search" aria-label="Search users by email">
          <div>
            <label htmlFor="users-q">Email contains</label>
            <input id="users-q" type="search" name="q" defaultValue={q} maxLength={320} autoComplete="off" spellCheck={false} />
          </div>
          <div className="actions users-search-actions">
            <button type="submit" className="btn btn-primary">
              Search
            </button>
            {q ? (
              <Link href="/admin/users" className="btn">
                Clear
              </Link>
            ) : null}
          </div>
        </form>
      </section>

      <section className="card stack" aria-labelledby="users-results">
        <div className="section-head">
          <h2 id="users-results">{q ? `Users matching “${q}”` : "All users, newest first"}</h2>
          <p className="muted small" data-testid="users-count">
            {total === 1 ? "1 user" : `${total} users`}
          </p>
        </div>
        <DataTable
          testId="users-table"
          rows={items}
          rowKey={(u) => u.userId}
          empty="No users found."
          columns={[
            { header: "Email", rowHeader: true, className: "break", cell: (u) => <Link href={`/admin/users/${u.userId}`}>{u.email ?? u.userId}</Link> },
            { header: "Plan", cell: (u) => <span className={u.plan === "pro" ? "badge badge-pro" : "badge"}>{u.plan === "pro" ? "Pro" : "Free"}</span> },
            { header: "Role", cell: (u) => (u.adminByConfig ? `${u.role} (admin via ADMIN_EMAILS)` : u.role) },
            { header: "Status", cell: (u) => (u.disabled ? <span className="badge badge-disabled">Disabled</span> : "Active") },
            { header: "Credits", cell: (u) => u.credits },
            { header: "Used today", cell: (u) => u.usedToday },
            { header: "Joined", className: "nowrap", cell: (u) => <When iso={u.createdAt} minutes /> },
          ]}
        />
        {pages > 1 ? (
          <nav className="actions" aria-label="Result pages">
            {page > 1 ? (
              <Link className="btn btn-sm" href={pageHref(page - 1)}>
                Previous page
              </Link>
            ) : null}
            <span className="muted small" aria-current="page">
              Page {page} of {pages}
            </span>
            {page < pages ? (
              <Link className="btn btn-sm" href={pageHref(page + 1)}>
                Next page
              </Link>
            ) : null}
          </nav>
        ) : null}
      </section>

      <section className="card stack" aria-labelledby="users-reconcile">
        <h2 id="users-reconcile">Ledger reconciliation</h2>
        <p className="muted small" style={{ margin: 0 }}>
          Recounts every user&apos;s daily usage and credits from the ledger and lists every stored counter that differs.
        </p>
        <ReconcilePanel />
      </section>
    </>
  );
}
