import type { Metadata } from "next";
import { setRequestLocale } from "next-intl/server";
import { givenParams, Pager, When } from "@/components/admin/insights/table-bits";
import { requireConsoleViewer } from "@/lib/admin/console";
import { listFeedback, pageQuery } from "@/lib/admin/tables";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Feedback" };

const PAGE_SIZE = 50;

export default async function FeedbackPage({
  params,
  searchParams,
}: {
  params: Promise<{ locale: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { locale } = await params;
  setRequestLocale(locale);
  await requireConsoleViewer();
  const given = givenParams(await searchParams, ["offset"]);
  const parsed = pageQuery.safeParse({ ...given, limit: String(PAGE_SIZE) });
  const query = parsed.success ? parsed.data : { limit: PAGE_SIZE, offset: 0 };
  const page = await listFeedback(query);
  const linkTo = (offset: number) => ({ pathname: "/admin/feedback", query: offset > 0 ? { offset: String(offset) } : ({} as Record<string, string>) });

  return (
    <>
      <h1>Feedback</h1>
      <section className="card stack" aria-labelledby="feedback-entries">
        <div className="section-head">
          <h2 id="feedback-entries">Ratings on generations</h2>
          <a className="btn btn-sm" href="/api/admin/feedback.csv" download>
            Download CSV
          </a>
        </div>
        <div className="table-scroll">
          <table className="table insights-table" data-testid="feedback-table">
            <thead>
              <tr>
                <th scope="col">Rating</th>
                <th scope="col">Comment</th>
                <th scope="col">Generation</th>
                <th scope="col">From</th>
                <th scope="col">When</th>
              </tr>
            </thead>
            <tbody>
              {page.items.length === 0 ? (
                <tr>
                  <td colSpan={5} className="muted">
                    No feedback yet.
                  </td>
                </tr>
              ) : (
                page.items.map((row) => (
                  <tr key={row.id}>
                    <th scope="row">
                      <span className={row.rating === 1 ? "badge" : "badge rating-down"}>{row.rating === 1 ? "Helpful" : "Not helpful"}</span>
                    </th>
                    <td className="break">{row.comment ?? <span className="muted">—</span>}</td>
                    <td className="break small">
                      <code>{row.generationId}</code>
                    </td>
                    <td className="break small">{row.guest ? <span className="muted">guest</span> : row.userId}</td>
                    <td className="nowrap">
                      <When iso={row.updatedAt} />
                    </td>
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </div>
        <Pager total={page.total} offset={query.offset} limit={PAGE_SIZE} shown={page.items.length} linkTo={linkTo} label="Feedback pages" />
      </section>
    </>
  );
}
