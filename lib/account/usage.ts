import "server-only";
import type { Queryable } from "@/lib/db";

/** How many UTC days GET /api/me reports. */
export const USAGE_DAYS = 14;

export interface UsageDay {
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  used: number;
}

/**
 * The user's generations counted against the daily allowance, per UTC day, for the `days` days
 * ending with `today` (a UTC `YYYY-MM-DD`): zero-filled, oldest first. `used` is net of refunds,
 * as the quota counts it.
 */
export async function readDailyUsage(db: Queryable, userId: string, today: string, days = USAGE_DAYS): Promise<UsageDay[]> {
  const rows = await db.query<{ day: string; used: number }>(
    `select (($2::date - g.n)::date)::text as day, coalesce(u.used, 0)::int as used
       from generate_series($3::int - 1, 0, -1) as g(n)
       left join litstatus.usage_daily u on u.user_id = $1 and u.day = $2::date - g.n
      order by g.n desc`,
    [userId, today, days],
  );
  return rows.map((row) => ({ day: row.day, used: Number(row.used) }));
}

export interface AccountProfile {
  userId: string;
  email: string | null;
  plan: "free" | "pro";
  role: "user" | "moderator" | "admin";
  credits: number;
  createdAt: string;
}

/** The stored profile fields GET /api/me shows besides what the viewer already carries. */
export async function readProfileExtras(db: Queryable, userId: string): Promise<{ credits: number; createdAt: string } | null> {
  const [row] = await db.query<{ credits: number; created_at: Date | string }>(
    `select credits, created_at from litstatus.profiles where user_id = $1`,
    [userId],
  );
  if (!row) return null;
  return { credits: Number(row.credits), createdAt: new Date(row.created_at).toISOString() };
}
