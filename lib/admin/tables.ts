import "server-only";
import { z } from "zod";
import { getDb } from "@/lib/db";

/**
 * The console's plain tables (PRODUCT §7, issue 9 §10): the Pro waitlist and feedback, newest
 * first, a page at a time or whole for CSV; and the audit log's query parameters (the log
 * itself is read through lib/admin/audit).
 */

export const PAGE_MAX = 200;

/** A route that takes no query parameters: any parameter is 400. */
export const noQuery = z.strictObject({});

export const pageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(PAGE_MAX).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});
export type PageQuery = z.infer<typeof pageQuery>;

/**
 * An instant: `2026-11-29`, `2026-11-29T09:00`, `2026-11-29T09:00:00Z`, `…+01:00`. Without a
 * zone it is UTC (what the console's date and datetime-local inputs send).
 */
const INSTANT = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})?)?$/;

export function parseInstant(raw: string): Date | null {
  const text = raw.trim();
  if (!INSTANT.test(text)) return null;
  const iso = text.length === 10 ? `${text}T00:00:00Z` : /(?:Z|[+-]\d{2}:\d{2})$/.test(text) ? text : `${text}Z`;
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return null;
  const date = new Date(ms);
  // Refuse a date that rolled over (2026-02-31) instead of the one written.
  if (text.length === 10 && date.toISOString().slice(0, 10) !== text) return null;
  return date;
}

export const instant = z
  .string()
  .max(40)
  .transform((raw, ctx) => {
    const date = parseInstant(raw);
    if (!date) {
      ctx.addIssue({ code: "custom", message: "Use an ISO-8601 date or time, e.g. 2026-11-29 or 2026-11-29T09:00:00Z." });
      return z.NEVER;
    }
    return date;
  });

/** A date range where `from` is not after `to`. */
function ordered<T extends { from?: Date; to?: Date }>(value: T, ctx: z.RefinementCtx): void {
  if (value.from && value.to && value.from > value.to) ctx.addIssue({ code: "custom", path: ["from"], message: "from must not be after to" });
}

/** GET /api/admin/audit: `actor` is a user id or an email, `action` an action or its `prefix`. */
export const auditQuery = z
  .strictObject({
    actor: z.string().trim().min(1).max(254).optional(),
    action: z
      .string()
      .trim()
      .regex(/^[a-z][a-z0-9_.-]{0,63}$/, "action is a name such as blocklist.add or a prefix such as user")
      .optional(),
    from: instant.optional(),
    to: instant.optional(),
    limit: z.coerce.number().int().min(1).max(PAGE_MAX).default(50),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  })
  .superRefine(ordered);
export type AuditQuery = z.infer<typeof auditQuery>;

/** GET /api/admin/audit.csv: an optional date range (`to` exclusive). */
export const auditRangeQuery = z.strictObject({ from: instant.optional(), to: instant.optional() }).superRefine(ordered);

export type WishlistRow = {
  id: string;
  email: string;
  note: string | null;
  userId: string | null;
  lang: string | null;
  createdAt: string;
  updatedAt: string;
};

export type FeedbackRow = {
  id: string;
  generationId: string;
  userId: string | null;
  /** True for a guest's rating (identified by a hash of their address, which is not shown). */
  guest: boolean;
  rating: 1 | -1;
  comment: string | null;
  createdAt: string;
  updatedAt: string;
};

const WISHLIST_COLUMNS = `id::text as id, email, note, user_id::text as "userId", lang,
  created_at as "createdAt", updated_at as "updatedAt"`;
const FEEDBACK_COLUMNS = `id::text as id, generation_id::text as "generationId", user_id::text as "userId",
  (user_id is null) as guest, rating::int as rating, comment, created_at as "createdAt", updated_at as "updatedAt"`;

function withTimes<T extends { createdAt: string; updatedAt: string }>(row: T): T {
  return { ...row, createdAt: new Date(row.createdAt).toISOString(), updatedAt: new Date(row.updatedAt).toISOString() };
}

async function page<T extends { createdAt: string; updatedAt: string }>(
  table: string,
  columns: string,
  { limit, offset }: PageQuery,
): Promise<{ items: T[]; total: number; limit: number; offset: number }> {
  const db = await getDb();
  const [items, [count]] = await Promise.all([
    db.query<T>(`select ${columns} from ${table} order by created_at desc, id desc limit $1 offset $2`, [limit, offset]),
    db.query<{ total: number }>(`select count(*)::int as total from ${table}`),
  ]);
  return { items: items.map(withTimes), total: count?.total ?? 0, limit, offset };
}

async function all<T extends { createdAt: string; updatedAt: string }>(table: string, columns: string): Promise<T[]> {
  const db = await getDb();
  return (await db.query<T>(`select ${columns} from ${table} order by created_at desc, id desc`)).map(withTimes);
}

export const listWishlist = (q: PageQuery) => page<WishlistRow>("litstatus.pro_wishlist", WISHLIST_COLUMNS, q);
export const allWishlist = () => all<WishlistRow>("litstatus.pro_wishlist", WISHLIST_COLUMNS);
export const WISHLIST_CSV_COLUMNS = ["id", "email", "note", "userId", "lang", "createdAt", "updatedAt"] as const;

export const listFeedback = (q: PageQuery) => page<FeedbackRow>("litstatus.feedback", FEEDBACK_COLUMNS, q);
export const allFeedback = () => all<FeedbackRow>("litstatus.feedback", FEEDBACK_COLUMNS);
/** Feedback as CSV rows: the rating as `up`/`down` (a bare `-1` cell would be neutralised to `'-1`). */
export const feedbackCsvRows = (rows: FeedbackRow[]) => rows.map((r) => ({ ...r, rating: r.rating === 1 ? "up" : "down" }));
export const FEEDBACK_CSV_COLUMNS = ["id", "generationId", "userId", "guest", "rating", "comment", "createdAt", "updatedAt"] as const;

export const AUDIT_CSV_COLUMNS = [
  "id",
  "createdAt",
  "actorId",
  "actorEmail",
  "action",
  "target",
  "before",
  "after",
  "ip",
  "requestId",
  "prevHash",
  "hash",
] as const;
