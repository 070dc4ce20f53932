import type { Metadata } from "next";
import { givenParams, openConsolePage, type ConsolePageProps } from "@/components/admin/console-page";
import { FilterForm, InvalidFilters, PagerNav, TextFilter, When } from "@/components/admin/console-ui";
import { DataTable } from "@/components/admin/data-table";
import { AdminAction } from "@/components/admin/operations/admin-action";
import { Link } from "@/i18n/navigation";
import { generationsQuery, listAdminGenerations, type AdminGeneration } from "@/lib/admin/generations";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Generations" };

const FILTER_KEYS = ["status", "provider", "cached", "userId", "offset"] as const;
const PAGE_SIZE = 50;

function Status({ g }: { g: AdminGeneration }) {
  return <span className={`tag${g.status === "failed" ? " tag-failed" : ""}`}>{g.status}</span>;
}

function Rows({ items, empty }: { items: AdminGeneration[]; empty: string }) {
  return (
    <DataTable
      rows={items}
      rowKey={(g) => g.id}
      empty={empty}
      columns={[
        { header: "Created", rowHeader: true, className: "nowrap", cell: (g) => <When iso={g.createdAt} /> },
        { header: "Status", cell: (g) => <Status g={g} /> },
        { header: "Failure reason", cell: (g) => (g.errorCode ? <code>{g.errorCode}</code> : <span className="muted">–</span>) },
        {
          header: "Provider / model",
          className: "small",
          cell: (g) => (
            <>
              {g.provider ?? "–"}
              {g.model ? <span className="muted"> / {g.model}</span> : null}
            </>
          ),
        },
        { header: "Cached", cell: (g) => (g.cached ? "yes" : "no") },
        { header: "Latency", className: "nowrap", cell: (g) => (g.latencyMs === null ? "–" : `${g.latencyMs} ms`) },
        { header: "User", className: "break small", cell: (g) => g.userId ?? <span className="muted">guest</span> },
        { header: "Id", className: "break small", cell: (g) => <code>{g.id}</code> },
      ]}
    />
  );
}

export default async function GenerationsPage({ params, searchParams }: ConsolePageProps) {
  const { isAdmin } = await openConsolePage(params);
  const given = givenParams(await searchParams, FILTER_KEYS, { trim: false });
  const parsed = generationsQuery.safeParse({ limit: String(PAGE_SIZE), ...given });
  const filters = parsed.success ? parsed.data : generationsQuery.parse({ limit: String(PAGE_SIZE) });
  const page = await listAdminGenerations(filters);

  const linkTo = (offset: number) => ({ pathname: "/admin/generations", query: { ...given, offset: String(offset) } });
  const pageStart = page.total === 0 ? 0 : page.offset + 1;
  const pageEnd = page.offset + page.items.length;

  return (
    <>
      <h1>Generations</h1>
      <p className="muted">Recent generations with their failure reasons, and the ones stuck in pending.</p>

      <section className="card stack" aria-labelledby="gen-stuck" data-testid="generations-stuck">
        <div className="section-head">
          <h2 id="gen-stuck">Stuck</h2>
          <p className="muted small" data-testid="stuck-count">
            {page.stuck.count} pending for over {page.stuck.olderThanMinutes} minutes
          </p>
        </div>
        <p className="muted small">
          No request lives this long: these were left behind by an instance that stopped mid-request. A sweep marks them failed with the reason{" "}
          <code>stuck</code> (retention runs it too).
        </p>
        {page.stuck.count > 0 ? <Rows items={page.stuck.items} empty="" /> : null}
        {isAdmin ? (
          <AdminAction
            label="Sweep stuck generations"
            method="POST"
            url="/api/admin/generations/sweep"
            summary="sweep"
            testId="generations-sweep"
          />
        ) : null}
      </section>

      <section className="card stack" aria-labelledby="gen-filters">
        <h2 id="gen-filters">Filter</h2>
        <InvalidFilters error={parsed.error} />
        <FilterForm
          className="stack"
          submit="Show generations"
          primary
          extra={
            <Link className="btn btn-sm" href="/admin/generations">
              Clear filters
            </Link>
          }
        >
          <div className="row">
            <div>
              <label htmlFor="g-status">Status</label>
              <select id="g-status" name="status" defaultValue={given.status ?? ""}>
                <option value="">Any</option>
                <option value="pending">pending</option>
                <option value="complete">complete</option>
                <option value="failed">failed</option>
              </select>
            </div>
            <TextFilter id="g-provider" name="provider" label="Provider" placeholder="openai or offline" value={given.provider} checkSpelling />
            <div>
              <label htmlFor="g-cached">Cached</label>
              <select id="g-cached" name="cached" defaultValue={given.cached ?? ""}>
                <option value="">Any</option>
                <option value="true">Cached</option>
                <option value="false">Not cached</option>
              </select>
            </div>
            <TextFilter id="g-user" name="userId" label="User id" value={given.userId} />
          </div>
        </FilterForm>
      </section>

      <section className="card stack" aria-labelledby="gen-list" data-testid="generations-table">
        <div className="section-head">
          <h2 id="gen-list">Recent</h2>
          <p className="muted small">
            {pageStart}–{pageEnd} of {page.total}
          </p>
        </div>
        <Rows items={page.items} empty="No generations match." />
        <PagerNav
          label="Generation pages"
          prev={page.offset > 0 ? { href: linkTo(Math.max(0, page.offset - PAGE_SIZE)), text: "Newer" } : undefined}
          next={pageEnd < page.total ? { href: linkTo(page.offset + PAGE_SIZE), text: "Older" } : undefined}
        />
      </section>
    </>
  );
}
