import "server-only";
import type { Viewer } from "@/lib/auth/viewer";
import { getDb, type Queryable } from "@/lib/db";
import { getRecordWriter } from "@/lib/events";
import { readQuota, utcDay, type QuotaView } from "@/lib/quota";
import { deleteAccount, deleteAccountIn, type AccountDeletion } from "./delete-account";
import { readDailyUsage, readProfileExtras, type AccountProfile, type UsageDay } from "./usage";

export type { AccountDeletion, AccountProfile, UsageDay };

export interface AccountView {
  profile: AccountProfile;
  quota: QuotaView;
  usage: UsageDay[];
}

/**
 * What the account page and GET /api/me show: the profile, today's quota and the last 14 UTC days
 * of usage. Null when the profile vanished after the session was checked (the account was just
 * deleted). Users are counted per account: the IP plays no part in their quota.
 */
export async function readAccount(viewer: Extract<Viewer, { kind: "user" }>, nowMs = Date.now()): Promise<AccountView | null> {
  const db = await getDb();
  const [extras, quota, usage] = await Promise.all([
    readProfileExtras(db, viewer.id),
    readQuota(viewer, null, nowMs),
    readDailyUsage(db, viewer.id, utcDay(nowMs)),
  ]);
  if (!extras) return null;
  const profile: AccountProfile = {
    userId: viewer.id,
    email: viewer.email,
    plan: viewer.plan,
    role: viewer.role,
    credits: extras.credits,
    createdAt: extras.createdAt,
  };
  return { profile, quota, usage };
}

/**
 * Deletes the account and its data. Events this instance still buffers for the user are written
 * first so the deletion anonymises them too (generation rows of users are never buffered).
 */
export async function deleteMyAccount(userId: string): Promise<AccountDeletion> {
  await getRecordWriter().flush();
  return deleteAccount(await getDb(), userId);
}

/**
 * Deletes another user's account (the admin console), inside the caller's transaction so the
 * deletion and its audit entry commit together. Call flushAccountRecords() first, as
 * deleteMyAccount does.
 */
export function deleteAccountInTransaction(tx: Queryable, userId: string): Promise<AccountDeletion> {
  return deleteAccountIn(tx, userId);
}

/** Writes this instance's buffered events now, so an account deletion anonymises them too. */
export async function flushAccountRecords(): Promise<void> {
  await getRecordWriter().flush();
}
