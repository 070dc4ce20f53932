import type { Metadata } from "next";
import { setRequestLocale } from "next-intl/server";
import { AdminAction } from "@/components/admin/operations/admin-action";
import { Link } from "@/i18n/navigation";
import { requireConsoleViewer } from "@/lib/admin/console";
import { generationsQuery, listAdminGenerations, type AdminGeneration } from "@/lib/admin/generations";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Generations" };

type SearchParams = Record<string, string | string[] | undefined>;

const FILTER_KEYS = ["status", "provider", "cached", "userId", "offset"] as const;
const PAGE_SIZE = 50;

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

function When({ iso }: { iso: string }) {
  return <time dateTime={iso}>{`${iso.slice(0, 19).replace("T", " ")} UTC`}</time>;
}

function Status({ g }: { g: AdminGeneration }) {
  return <span className={`tag${g.status === "failed" ? " tag-failed" : ""}`}>{g.status}</span>;
}

function Rows({ items, empty }: { items: AdminGeneration[]; empty: string }) {
  return (
    <div className="table-scroll">
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Created</th>
            <th scope="col">Status</th>
            <th scope="col">Failure reason</th>
            <th scope="col">Provider / model</th>
            <th scope="col">Cached</th>
            <th scope="col">Latency</th>
            <th scope="col">User</th>
            <th scope="col">Id</th>
          </tr>
        </thead>
        <tbody>
          {items.map((g) => (
            <tr key={g.id}>
              <th scope="row" className="nowrap">
                <When iso={g.createdAt} />
              </th>
              <td>
                <Status g={g} />
              </td>
              <td>{g.errorCode ? <code>{g.errorCode}</code> : <span className="muted">–</span>}</td>
              <td className="small">
                {g.provider ?? "–"}
                {g.model ? <span className="muted"> / {g.model}</span> : null}
              </td>
              <td>{g.cached ? "yes" : "no"}</td>
              <td className="nowrap">{g.latencyMs === null ? "–" : `${g.latencyMs} ms`}</td>
              <td className="break small">{g.userId ?? <span className="muted">guest</span>}</td>
              <td className="break small">
                <code>{g.id}</code>
              </td>
            </tr>
          ))}
          {items.length === 0 ? (
            <tr>
              <td colSpan={8} className="muted">
                {empty}
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </div>
  );
}

export default async function GenerationsPage({ params, searchParams }: { params: Promise<{ locale: string }>; searchParams: Promise<SearchParams> }) {
  const { locale } = await params;
  setRequestLocale(locale);
  const viewer = await requireConsoleViewer();
  const isAdmin = viewer.role === "admin";
  const raw = await searchParams;

  const given: Record<string, string> = {};
  for (const key of FILTER_KEYS) {
    const value = first(raw[key]);
    if (value !== undefined && value !== "") given[key] = value;
  }
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
        {!parsed.success ? (
          <p className="alert" role="alert">
            Some filters were not valid and were ignored: {parsed.error.issues.map((i) => `${i.path.join(".") || "filters"}: ${i.message}`).join("; ")}
          </p>
        ) : null}
        <form method="get" className="stack">
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
            <div>
              <label htmlFor="g-provider">Provider</label>
              <input id="g-provider" name="provider" type="text" autoComplete="off" placeholder="openai or offline" defaultValue={given.provider ?? ""} />
            </div>
            <div>
              <label htmlFor="g-cached">Cached</label>
              <select id="g-cached" name="cached" defaultValue={given.cached ?? ""}>
                <option value="">Any</option>
                <option value="true">Cached</option>
                <option value="false">Not cached</option>
              </select>
            </div>
            <div>
              <label htmlFor="g-user">User id</label>
              <input id="g-user" name="userId" type="text" autoComplete="off" spellCheck={false} defaultValue={given.userId ?? ""} />
            </div>
          </div>
          <div className="actions">
            <button type="submit" className="btn btn-sm btn-primary">
              Show generations
            </button>
            <Link className="btn btn-sm" href="/admin/generations">
              Clear filters
            </Link>
          </div>
        </form>
      </section>

      <section className="card stack" aria-labelledby="gen-list" data-testid="generations-table">
        <div className="section-head">
          <h2 id="gen-list">Recent</h2>
          <p className="muted small">
            {pageStart}–{pageEnd} of {page.total}
          </p>
        </div>
        <Rows items={page.items} empty="No generations match." />
        <nav className="pager" aria-label="Generation pages">
          {page.offset > 0 ? (
            <Link className="btn btn-sm" href={linkTo(Math.max(0, page.offset - PAGE_SIZE))}>
              Newer
            </Link>
          ) : (
            <span />
          )}
          {pageEnd < page.total ? (
            <Link className="btn btn-sm" href={linkTo(page.offset + PAGE_SIZE)}>
              Older
            </Link>
          ) : (
            <span />
          )}
        </nav>
      </section>
    </>
  );
}
