import "server-only";
import type { Db, Queryable } from "@/lib/db";

/** Rows each statement of an account deletion touched (for logs and tests; no personal data). */
export interface AccountDeletion {
  /** False when the account did not exist (any more): nothing was changed. */
  deleted: boolean;
  generations: number;
  usageDaily: number;
  usageLedger: number;
  feedback: number;
  wishlist: number;
  loginTokens: number;
  funnelEventsAnonymized: number;
  securityEventsAnonymized: number;
}

/** Runs one data-modifying statement and returns how many rows it touched. */
async function count(tx: Queryable, sql: string, params: string[]): Promise<number> {
  return (await tx.query<{ n: number }>(`with affected as (${sql} returning 1) select count(*)::int as n from affected`, params))[0]?.n ?? 0;
}

/**
 * Deletes an account and everything personal about it, in one transaction: generations (with
 * the feedback on them), usage counters and ledger, feedback given, waitlist entries (linked or
 * under the account's email), pending sign-in links for the email, the profile and the
 * `auth.users` row. Funnel and security events are kept for aggregate statistics but no longer
 * name the user: user_id, IP and user agent are cleared on their rows.
 *
 * The caller should flush buffered records first (getRecordWriter().flush()), so nothing
 * written for this user lands after the deletion; anything that still does finds no user:
 * events are kept without one and generation records are rejected.
 */
export async function deleteAccount(db: Db, userId: string): Promise<AccountDeletion> {
  return db.transaction((tx) => deleteAccountIn(tx, userId));
}

/**
 * The deletion's statements inside the caller's transaction `tx` (an admin's deletion commits
 * together with its audit entry): the same path as deleteAccount.
 */
export async function deleteAccountIn(tx: Queryable, userId: string): Promise<AccountDeletion> {
  // Lock the account first: concurrent deletions of the same account take turns.
  const [user] = await tx.query<{ email: string | null }>(
    `select lower(coalesce(u.email, p.email)) as email
       from auth.users u left join litstatus.profiles p on p.user_id = u.id
      where u.id = $1
      for update of u`,
    [userId],
  );
  if (!user) {
    return {
      deleted: false,
      generations: 0,
      usageDaily: 0,
      usageLedger: 0,
      feedback: 0,
      wishlist: 0,
      loginTokens: 0,
      funnelEventsAnonymized: 0,
      securityEventsAnonymized: 0,
    };
  }
  const email = user.email ?? "";
  const feedback = await count(tx, `delete from litstatus.feedback where user_id = $1`, [userId]);
  const generations = await count(tx, `delete from litstatus.generations where user_id = $1`, [userId]);
  const usageDaily = await count(tx, `delete from litstatus.usage_daily where user_id = $1`, [userId]);
  const usageLedger = await count(tx, `delete from litstatus.usage_ledger where user_id = $1`, [userId]);
  const wishlist = await count(
    tx,
    `delete from litstatus.pro_wishlist where user_id = $1 or ($2 <> '' and lower(email) = $2)`,
    [userId, email],
  );
  const loginTokens = email === "" ? 0 : await count(tx, `delete from litstatus.login_tokens where lower(email) = $1`, [email]);
  const funnelEventsAnonymized = await count(tx, `update litstatus.funnel_events set user_id = null where user_id = $1`, [userId]);
  const securityEventsAnonymized = await count(
    tx,
    `update litstatus.security_events set user_id = null, ip = null, user_agent = null where user_id = $1`,
    [userId],
  );
  await tx.query(`delete from litstatus.profiles where user_id = $1`, [userId]);
  await tx.query(`delete from auth.users where id = $1`, [userId]);
  return {
    deleted: true,
    generations,
    usageDaily,
    usageLedger,
    feedback,
    wishlist,
    loginTokens,
    funnelEventsAnonymized,
    securityEventsAnonymized,
  };
}
