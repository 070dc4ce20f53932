import type { Metadata } from "next";
import { offsetPage, openConsolePage, type ConsolePageProps } from "@/components/admin/console-page";
import { CsvSection, When } from "@/components/admin/console-ui";
import { PagedTable } from "@/components/admin/data-table";
import { listFeedback } from "@/lib/admin/tables";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Feedback" };

const PAGE_SIZE = 50;

export default async function FeedbackPage({ params, searchParams }: ConsolePageProps) {
  await openConsolePage(params);
  const { query, linkTo } = await offsetPage(searchParams, PAGE_SIZE, "/admin/feedback");
  const page = await listFeedback(query);

  return (
    <>
      <h1>Feedback</h1>
      <CsvSection id="feedback-entries" title="Ratings on generations" csv="/api/admin/feedback.csv">
        <PagedTable
          page={page}
          query={query}
          linkTo={linkTo}
          pagerLabel="Feedback pages"
          testId="feedback-table"
          className="insights-table"
          rowKey={(row) => row.id}
          empty="No feedback yet."
          columns={[
            {
              header: "Rating",
              rowHeader: true,
              cell: (row) => <span className={row.rating === 1 ? "badge" : "badge rating-down"}>{row.rating === 1 ? "Helpful" : "Not helpful"}</span>,
            },
            { header: "Comment", className: "break", cell: (row) => row.comment ?? <span className="muted">—</span> },
            { header: "Generation", className: "break small", cell: (row) => <code>{row.generationId}</code> },
            { header: "From", className: "break small", cell: (row) => (row.guest ? <span className="muted">guest</span> : row.userId) },
            { header: "When", className: "nowrap", cell: (row) => <When iso={row.updatedAt} /> },
          ]}
        />
      </CsvSection>
    </>
  );
}
