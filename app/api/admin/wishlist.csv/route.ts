import { allWishlist, WISHLIST_CSV_COLUMNS, noQuery } from "@/lib/admin/tables";
import { methods, route } from "@/lib/http/route";
import { csvHeaders, toCsv } from "@/lib/util/csv";

export const dynamic = "force-dynamic";

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /** GET /api/admin/wishlist.csv — every row, newest first. */
  GET: route("admin.wishlist_csv", { auth: "moderator", sameOrigin: false, limit: "api", query: noQuery }, async ({ timing }) => {
    const rows = await timing.measure("db", () => allWishlist());
    return new Response(toCsv(WISHLIST_CSV_COLUMNS, rows), { headers: csvHeaders("wishlist.csv") });
  }),
});
