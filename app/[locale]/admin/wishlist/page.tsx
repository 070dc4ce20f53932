import type { Metadata } from "next";
import { offsetPage, openConsolePage, type ConsolePageProps } from "@/components/admin/console-page";
import { CsvSection, When } from "@/components/admin/console-ui";
import { PagedTable } from "@/components/admin/data-table";
import { listWishlist } from "@/lib/admin/tables";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Wishlist" };

const PAGE_SIZE = 50;

export default async function WishlistPage({ params, searchParams }: ConsolePageProps) {
  await openConsolePage(params);
  const { query, linkTo } = await offsetPage(searchParams, PAGE_SIZE, "/admin/wishlist");
  const page = await listWishlist(query);

  return (
    <>
      <h1>Wishlist</h1>
      <CsvSection id="wishlist-entries" title="Pro waitlist" csv="/api/admin/wishlist.csv">
        <PagedTable
          page={page}
          query={query}
          linkTo={linkTo}
          pagerLabel="Wishlist pages"
          testId="wishlist-table"
          className="insights-table"
          rowKey={(row) => row.id}
          empty="Nobody is on the waitlist yet."
          columns={[
            { header: "Email", rowHeader: true, className: "break", cell: (row) => row.email },
            { header: "Note", className: "break", cell: (row) => row.note ?? <span className="muted">—</span> },
            { header: "Language", cell: (row) => row.lang ?? "—" },
            { header: "Account", className: "break small", cell: (row) => row.userId ?? <span className="muted">guest</span> },
            { header: "Joined", className: "nowrap", cell: (row) => <When iso={row.createdAt} /> },
            { header: "Updated", className: "nowrap", cell: (row) => <When iso={row.updatedAt} /> },
          ]}
        />
      </CsvSection>
    </>
  );
}
