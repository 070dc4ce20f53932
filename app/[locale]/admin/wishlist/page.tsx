import type { Metadata } from "next";
import { setRequestLocale } from "next-intl/server";
import { givenParams, Pager, When } from "@/components/admin/insights/table-bits";
import { requireConsoleViewer } from "@/lib/admin/console";
import { listWishlist, pageQuery } from "@/lib/admin/tables";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Wishlist" };

const PAGE_SIZE = 50;

export default async function WishlistPage({
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
  const page = await listWishlist(query);
  const linkTo = (offset: number) => ({ pathname: "/admin/wishlist", query: offset > 0 ? { offset: String(offset) } : ({} as Record<string, string>) });

  return (
    <>
      <h1>Wishlist</h1>
      <section className="card stack" aria-labelledby="wishlist-entries">
        <div className="section-head">
          <h2 id="wishlist-entries">Pro waitlist</h2>
          <a className="btn btn-sm" href="/api/admin/wishlist.csv" download>
            Download CSV
          </a>
        </div>
        <div className="table-scroll">
          <table className="table insights-table" data-testid="wishlist-table">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Note</th>
                <th scope="col">Language</th>
                <th scope="col">Account</th>
                <th scope="col">Joined</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {page.items.length === 0 ? (
                <tr>
                  <td colSpan={6} className="muted">
                    Nobody is on the waitlist yet.
                  </td>
                </tr>
              ) : (
                page.items.map((row) => (
                  <tr key={row.id}>
                    <th scope="row" className="break">
                      {row.email}
                    </th>
                    <td className="break">{row.note ?? <span className="muted">—</span>}</td>
                    <td>{row.lang ?? "—"}</td>
                    <td className="break small">{row.userId ?? <span className="muted">guest</span>}</td>
                    <td className="nowrap">
                      <When iso={row.createdAt} />
                    </td>
                    <td className="nowrap">
                      <When iso={row.updatedAt} />
                    </td>
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </div>
        <Pager total={page.total} offset={query.offset} limit={PAGE_SIZE} shown={page.items.length} linkTo={linkTo} label="Wishlist pages" />
      </section>
    </>
  );
}
