import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { UsageChart } from "@/components/account/usage-chart";
import { openConsolePage, type ConsolePageProps } from "@/components/admin/console-page";
import { When } from "@/components/admin/console-ui";
import { DataTable } from "@/components/admin/data-table";
import { UserControls } from "@/components/admin/users/user-controls";
import { Link } from "@/i18n/navigation";
import { getUserDetail, LEDGER_LIMIT } from "@/lib/admin/users";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "User" };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const KIND_LABEL = { charge: "Charge", refund: "Refund", grant: "Credit grant" } as const;

export default async function UserPage({ params }: Pick<ConsolePageProps<{ id: string }>, "params">) {
  const { id, viewer, isAdmin } = await openConsolePage(params);
  if (!UUID.test(id)) notFound();
  const detail = await getUserDetail(id);
  if (!detail) notFound();
  const { profile, usage, ledger, ledgerTotal } = detail;
  const total14 = usage.reduce((sum, d) => sum + d.used, 0);

  return (
    <>
      <p className="small" style={{ margin: 0 }}>
        <Link href="/admin/users">← All users</Link>
      </p>
      <h1 className="break">{profile.email ?? profile.userId}</h1>

      <div className="grid-2">
        <section className="card stack" aria-labelledby="user-profile">
          <h2 id="user-profile">Profile</h2>
          <dl className="facts" data-testid="user-profile">
            <div>
              <dt>User id</dt>
              <dd className="break">
                <code>{profile.userId}</code>
              </dd>
            </div>
            <div>
              <dt>Email</dt>
              <dd className="break">{profile.email ?? <span className="muted">none</span>}</dd>
            </div>
            <div>
              <dt>Plan</dt>
              <dd>
                <span className={profile.plan === "pro" ? "badge badge-pro" : "badge"} data-testid="user-plan">
                  {profile.plan === "pro" ? "Pro" : "Free"}
                </span>
              </dd>
            </div>
            <div>
              <dt>Role</dt>
              <dd data-testid="user-role">{profile.adminByConfig ? `${profile.role} (admin via ADMIN_EMAILS: configuration wins over the stored role)` : profile.role}</dd>
            </div>
            <div>
              <dt>Status</dt>
              <dd data-testid="user-status">
                {profile.disabled ? (
                  <>
                    <span className="badge badge-disabled">Disabled</span> since <When iso={profile.disabledAt!} />
                  </>
                ) : (
                  "Active"
                )}
              </dd>
            </div>
            <div>
              <dt>Credits</dt>
              <dd data-testid="user-credits">{profile.credits}</dd>
            </div>
            <div>
              <dt>Used today</dt>
              <dd>{profile.usedToday}</dd>
            </div>
            <div>
              <dt>Joined</dt>
              <dd>
                <When iso={profile.createdAt} />
              </dd>
            </div>
            <div>
              <dt>Last seen</dt>
              <dd>
                <When iso={profile.lastSeenAt} />
              </dd>
            </div>
          </dl>
        </section>

        <section className="card stack" aria-labelledby="user-usage">
          <h2 id="user-usage">Usage, last 14 days</h2>
          <p className="muted small" style={{ margin: 0 }}>
            {total14} {total14 === 1 ? "generation" : "generations"} counted against the daily allowance (UTC days, net of refunds).
          </p>
          <UsageChart usage={usage} />
        </section>
      </div>

      {isAdmin ? (
        <UserControls
          user={{ userId: profile.userId, email: profile.email, plan: profile.plan, role: profile.role, disabled: profile.disabled }}
          self={viewer.id === profile.userId}
        />
      ) : null}

      <section className="card stack" aria-labelledby="user-ledger">
        <div className="section-head">
          <h2 id="user-ledger">Ledger</h2>
          <p className="muted small">
            {ledgerTotal > ledger.length ? `The latest ${ledger.length} of ${ledgerTotal} entries` : `${ledgerTotal} ${ledgerTotal === 1 ? "entry" : "entries"}`}
          </p>
        </div>
        <DataTable
          testId="user-ledger"
          rows={ledger}
          rowKey={(e) => e.id}
          empty="No ledger entries yet."
          columns={[
            { header: "When", rowHeader: true, className: "nowrap", cell: (e) => <When iso={e.createdAt} /> },
            { header: "Kind", cell: (e) => KIND_LABEL[e.kind] },
            { header: "Paid from", cell: (e) => (e.source === "credit" ? "Credits" : "Daily allowance") },
            { header: "Amount", cell: (e) => (e.kind === "charge" ? `−${e.amount}` : e.amount > 0 ? `+${e.amount}` : `−${-e.amount}`) },
            { header: "Day", className: "nowrap", cell: (e) => e.day },
            {
              header: "Reason or generation",
              className: "break",
              cell: (e) => e.reason ?? (e.generationId ? <code className="small">{e.generationId}</code> : <span className="muted">–</span>),
            },
          ]}
        />
        {ledgerTotal > LEDGER_LIMIT ? <p className="muted small">Older entries are not shown.</p> : null}
      </section>
    </>
  );
}
