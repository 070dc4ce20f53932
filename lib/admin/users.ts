import "server-only";
import { createHash } from "node:crypto";
import { deleteAccountInTransaction, flushAccountRecords, type AccountDeletion } from "@/lib/account";
import { readDailyUsage, USAGE_DAYS, type UsageDay } from "@/lib/account/usage";
import { audited, type AdminActor } from "@/lib/admin/audit";
import { adminEmails } from "@/lib/auth/mode";
import { getDb, type Queryable } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { utcDay } from "@/lib/quota/day";

/**
 * The console's users (issue 9 §6): search, a user's usage and ledger, plan/role/disable,
 * credit grants (ledger entries, idempotent per key), the ledger reconciliation and deletion.
 * Every write goes through `audited`: the change and its audit entry commit together.
 */

export type AdminPlan = "free" | "pro";
export type AdminRole = "user" | "moderator" | "admin";

export interface AdminUser {
  userId: string;
  email: string | null;
  plan: AdminPlan;
  /** The stored role (what PATCH sets). */
  role: AdminRole;
  /** Named in ADMIN_EMAILS: an admin whatever the stored role says (configuration wins). */
  adminByConfig: boolean;
  disabled: boolean;
  disabledAt: string | null;
  credits: number;
  /** Generations counted against today's (UTC) allowance, net of refunds. */
  usedToday: number;
  createdAt: string;
  lastSeenAt: string;
}

export interface LedgerEntry {
  id: string;
  day: string;
  kind: "charge" | "refund" | "grant";
  source: "daily" | "credit";
  /** 1 for charges and refunds; the signed number of credits for a grant. */
  amount: number;
  reason: string | null;
  actorId: string | null;
  generationId: string | null;
  createdAt: string;
}

export interface AdminUserDetail {
  profile: AdminUser;
  /** The last 14 UTC days, oldest first, zero-filled. */
  usage: UsageDay[];
  /** Most recent first, at most LEDGER_LIMIT entries. */
  ledger: LedgerEntry[];
  ledgerTotal: number;
}

export const LEDGER_LIMIT = 100;

interface UserRow {
  user_id: string;
  email: string | null;
  plan: string;
  role: string;
  disabled_at: Date | string | null;
  credits: number;
  used_today: number;
  created_at: Date | string;
  last_seen_at: Date | string;
}

const iso = (value: Date | string): string => new Date(value).toISOString();

function toUser(row: UserRow): AdminUser {
  return {
    userId: row.user_id,
    email: row.email,
    plan: row.plan === "pro" ? "pro" : "free",
    role: row.role === "admin" || row.role === "moderator" ? row.role : "user",
    adminByConfig: row.email !== null && adminEmails(getEnv()).has(row.email.toLowerCase()),
    disabled: row.disabled_at !== null,
    disabledAt: row.disabled_at === null ? null : iso(row.disabled_at),
    credits: Number(row.credits),
    usedToday: Number(row.used_today ?? 0),
    createdAt: iso(row.created_at),
    lastSeenAt: iso(row.last_seen_at),
  };
}

/** $1 = today (UTC date); the profile columns an AdminUser is built from. */
const USER_COLUMNS = `p.user_id::text as user_id, p.email, p.plan, p.role, p.disabled_at, p.credits,
  coalesce((select u.used from litstatus.usage_daily u where u.user_id = p.user_id and u.day = $1::date), 0)::int as used_today,
  p.created_at, p.last_seen_at`;

export interface UserSearch {
  q?: string;
  limit: number;
  offset: number;
}

/** Users whose email contains `q` (case-insensitive; no wildcards), newest first. */
export async function searchUsers(search: UserSearch, nowMs = Date.now()): Promise<{ items: AdminUser[]; total: number }> {
  const db = await getDb();
  const q = search.q?.trim() ? search.q.trim().toLowerCase() : null;
  const where = `where ($2::text is null or strpos(lower(coalesce(p.email, '')), $2::text) > 0)`;
  const [rows, [count]] = await Promise.all([
    db.query<UserRow>(
      `select ${USER_COLUMNS} from litstatus.profiles p ${where}
        order by p.created_at desc, p.user_id desc limit $3 offset $4`,
      [utcDay(nowMs), q, search.limit, search.offset],
    ),
    db.query<{ total: number }>(`select count(*)::int as total from litstatus.profiles p where ($1::text is null or strpos(lower(coalesce(p.email, '')), $1::text) > 0)`, [q]),
  ]);
  return { items: rows.map(toUser), total: count?.total ?? 0 };
}

async function readUser(db: Queryable, userId: string, nowMs: number, lock = false): Promise<AdminUser | null> {
  const [row] = await db.query<UserRow>(
    `select ${USER_COLUMNS} from litstatus.profiles p where p.user_id = $2::uuid${lock ? " for update of p" : ""}`,
    [utcDay(nowMs), userId],
  );
  return row ? toUser(row) : null;
}

interface LedgerRow {
  id: string;
  day: string;
  kind: LedgerEntry["kind"];
  source: LedgerEntry["source"];
  amount: number;
  reason: string | null;
  actor_id: string | null;
  generation_id: string | null;
  created_at: Date | string;
}

function toLedgerEntry(row: LedgerRow): LedgerEntry {
  return {
    id: row.id,
    day: row.day,
    kind: row.kind,
    source: row.source,
    amount: Number(row.amount),
    reason: row.reason,
    actorId: row.actor_id,
    generationId: row.generation_id,
    createdAt: iso(row.created_at),
  };
}

const LEDGER_COLUMNS = `l.id::text as id, l.day::text as day, l.kind, l.source, l.amount, l.reason, l.actor_id::text as actor_id,
  l.generation_id::text as generation_id, l.created_at`;

/** A user's profile, 14 days of usage and the most recent ledger entries; null for an unknown id. */
export async function getUserDetail(userId: string, nowMs = Date.now()): Promise<AdminUserDetail | null> {
  const db = await getDb();
  const profile = await readUser(db, userId, nowMs);
  if (!profile) return null;
  const [usage, ledger, [count]] = await Promise.all([
    readDailyUsage(db, userId, utcDay(nowMs), USAGE_DAYS),
    db.query<LedgerRow>(`select ${LEDGER_COLUMNS} from litstatus.usage_ledger l where l.user_id = $1::uuid order by l.id desc limit $2`, [
      userId,
      LEDGER_LIMIT,
    ]),
    db.query<{ total: number }>(`select count(*)::int as total from litstatus.usage_ledger where user_id = $1::uuid`, [userId]),
  ]);
  return { profile, usage, ledger: ledger.map(toLedgerEntry), ledgerTotal: count?.total ?? 0 };
}

export interface UserPatch {
  plan?: AdminPlan;
  role?: AdminRole;
  disabled?: boolean;
}

/** What an audit entry keeps of a user: the fields an admin can change, and the credits. */
function auditView(user: AdminUser) {
  return { email: user.email, plan: user.plan, role: user.role, disabled: user.disabled, credits: user.credits };
}

/**
 * Sets a user's plan, role and/or disabled state. Disabling ends every session of the account
 * (sessions_revoked_at, in the same statement); re-enabling lets them sign in again (their old
 * tokens stay ended). An admin cannot disable or demote themselves.
 */
export async function updateUser(actor: AdminActor, userId: string, patch: UserPatch, nowMs = Date.now()): Promise<AdminUser> {
  if (actor.userId === userId) {
    if (patch.disabled === true) throw new AppError("invalid_input", "You cannot disable your own account.");
    if (patch.role !== undefined && patch.role !== "admin") throw new AppError("invalid_input", "You cannot remove your own admin role.");
  }
  return audited(actor, "user.update", userId, async (tx) => {
    const before = await readUser(tx, userId, nowMs, true);
    if (!before) throw new AppError("not_found", "No such user.");
    await tx.query(
      `update litstatus.profiles
          set plan = coalesce($2::text, plan),
              role = coalesce($3::text, role),
              disabled_at = case when $4::boolean is null then disabled_at
                                 when $4::boolean then coalesce(disabled_at, now())
                                 else null end,
              sessions_revoked_at = case when $4::boolean and disabled_at is null then now() else sessions_revoked_at end
        where user_id = $1::uuid`,
      [userId, patch.plan ?? null, patch.role ?? null, patch.disabled ?? null],
    );
    const after = (await readUser(tx, userId, nowMs))!;
    return { result: after, before: auditView(before), after: auditView(after) };
  });
}

export interface CreditGrant {
  amount: number;
  reason: string;
}

export interface CreditGrantResult {
  entry: LedgerEntry;
  /** The user's credits right after this grant. */
  credits: number;
}

/** Admin grants' ledger keys live in their own namespace next to generation charges. */
const grantKey = (key: string) => `grant:${key}`;

function requestHash(userId: string, grant: CreditGrant): string {
  return createHash("sha256").update(JSON.stringify([userId, grant.amount, grant.reason])).digest("hex");
}

interface GrantRow extends LedgerRow {
  user_id: string;
  request_hash: string | null;
  credits_after: number | null;
}

/** The stored answer for a key used before: the same request gets it again, another is refused. */
function replayOf(row: GrantRow, hash: string): CreditGrantResult {
  if (row.kind !== "grant" || row.request_hash !== hash) {
    throw new AppError("invalid_input", "This Idempotency-Key was already used for a different request.");
  }
  return { entry: toLedgerEntry(row), credits: Number(row.credits_after) };
}

async function findGrant(db: Queryable, key: string): Promise<GrantRow | undefined> {
  const [row] = await db.query<GrantRow>(
    `select ${LEDGER_COLUMNS}, l.user_id::text as user_id, l.request_hash, l.credits_after
       from litstatus.usage_ledger l where l.idempotency_key = $1`,
    [grantKey(key)],
  );
  return row;
}

class KeyTaken extends Error {}

/**
 * Grants (or, with a negative amount, takes back) credits: one `grant` ledger entry and the
 * profile's balance, with the audit entry, in one transaction. Idempotent per key: the same key
 * and body answer the first result again without a second entry (concurrent requests too: the
 * ledger's unique key makes them wait for the first and then replay it); the same key with a
 * different body is 400.
 */
export async function grantCredits(actor: AdminActor, userId: string, grant: CreditGrant, key: string, nowMs = Date.now()): Promise<CreditGrantResult & { replay: boolean }> {
  const hash = requestHash(userId, grant);
  const db = await getDb();
  const earlier = await findGrant(db, key);
  if (earlier) return { ...replayOf(earlier, hash), replay: true };
  try {
    const result = await audited(actor, "user.credits.grant", userId, async (tx) => {
      const [inserted] = await tx.query<{ id: string }>(
        `insert into litstatus.usage_ledger (user_id, day, kind, source, amount, reason, actor_id, idempotency_key, request_hash, credits_after)
         select p.user_id, $2::date, 'grant', 'credit', $3::int, $4, $5::uuid, $6, $7, p.credits + $3::int
           from litstatus.profiles p where p.user_id = $1::uuid
         on conflict (idempotency_key) do nothing
         returning id::text as id`,
        [userId, utcDay(nowMs), grant.amount, grant.reason, actor.userId, grantKey(key), hash],
      );
      if (!inserted) {
        // Either the key was taken meanwhile (a concurrent twin) or the user does not exist.
        if (await findGrant(tx, key)) throw new KeyTaken();
        throw new AppError("not_found", "No such user.");
      }
      const [updated] = await tx.query<{ credits: number }>(
        `update litstatus.profiles set credits = credits + $2::int where user_id = $1::uuid and credits + $2::int >= 0 returning credits`,
        [userId, grant.amount],
      );
      if (!updated) throw new AppError("invalid_input", "The user does not have that many credits to take back.");
      // The balance this grant produced (the row was written with the balance read before the lock).
      await tx.query(`update litstatus.usage_ledger set credits_after = $2 where id = $1::bigint`, [inserted.id, updated.credits]);
      const [row] = await tx.query<GrantRow>(
        `select ${LEDGER_COLUMNS}, l.user_id::text as user_id, l.request_hash, l.credits_after from litstatus.usage_ledger l where l.id = $1::bigint`,
        [inserted.id],
      );
      const credits = Number(updated.credits);
      return {
        result: { entry: toLedgerEntry(row!), credits },
        before: { credits: credits - grant.amount },
        after: { credits, amount: grant.amount, reason: grant.reason, ledgerId: inserted.id, idempotencyKey: key },
      };
    });
    return { ...result, replay: false };
  } catch (error) {
    if (!(error instanceof KeyTaken)) throw error;
    const twin = await findGrant(db, key);
    if (!twin) throw error;
    return { ...replayOf(twin, hash), replay: true };
  }
}

export interface Discrepancy {
  userId: string;
  email: string | null;
  /** `used`: a day's counter (usage_daily); `credits`: the balance (profiles.credits, day null). */
  field: "used" | "credits";
  day: string | null;
  stored: number;
  computed: number;
}

export const RECONCILE_LIMIT = 1000;

/**
 * Recomputes every user's daily `used` (daily charges minus their refunds) and `credits`
 * (grants, minus credit charges, plus their refunds) from the ledger, in SQL, and lists each
 * place where the stored counter differs: newest day first, at most RECONCILE_LIMIT rows.
 */
export async function reconcileLedger(): Promise<{ ok: boolean; total: number; discrepancies: Discrepancy[] }> {
  const db = await getDb();
  const rows = await db.query<{
    user_id: string;
    email: string | null;
    field: "used" | "credits";
    day: string | null;
    stored: number;
    computed: number;
    total: number;
  }>(
    `with ledger_days as (
       select user_id, day,
              (count(*) filter (where kind = 'charge' and source = 'daily')
               - count(*) filter (where kind = 'refund' and source = 'daily'))::int as computed
         from litstatus.usage_ledger
        where kind in ('charge', 'refund')
        group by user_id, day
     ), days as (
       select coalesce(d.user_id, l.user_id) as user_id, coalesce(d.day, l.day) as day,
              coalesce(d.used, 0)::int as stored, coalesce(l.computed, 0)::int as computed
         from litstatus.usage_daily d
         full join ledger_days l on l.user_id = d.user_id and l.day = d.day
     ), balances as (
       select p.user_id, p.credits::int as stored,
              coalesce(sum(case when l.kind = 'grant' then l.amount
                                when l.kind = 'charge' and l.source = 'credit' then -1
                                when l.kind = 'refund' and l.source = 'credit' then 1
                                else 0 end), 0)::int as computed
         from litstatus.profiles p
         left join litstatus.usage_ledger l on l.user_id = p.user_id
        group by p.user_id, p.credits
     ), found as (
       select user_id, 'used' as field, day, stored, computed from days where stored <> computed
       union all
       select user_id, 'credits' as field, null::date as day, stored, computed from balances where stored <> computed
     )
     select f.user_id::text as user_id, p.email, f.field, f.day::text as day, f.stored, f.computed,
            count(*) over ()::int as total
       from found f left join litstatus.profiles p on p.user_id = f.user_id
      order by f.day desc nulls first, f.user_id, f.field
      limit $1`,
    [RECONCILE_LIMIT],
  );
  const discrepancies = rows.map((r) => ({
    userId: r.user_id,
    email: r.email,
    field: r.field,
    day: r.day,
    stored: Number(r.stored),
    computed: Number(r.computed),
  }));
  const total = rows[0]?.total ?? 0;
  return { ok: total === 0, total: Number(total), discrepancies };
}

/**
 * Deletes a user and their data through the account-deletion path, with the audit entry in the
 * same transaction. Buffered events are written first so they are anonymised too. An admin
 * cannot delete themselves here (they can from their account page).
 */
export async function deleteUser(actor: AdminActor, userId: string, nowMs = Date.now()): Promise<AccountDeletion> {
  if (actor.userId === userId) throw new AppError("invalid_input", "You cannot delete your own account from the console.");
  await flushAccountRecords();
  return audited(actor, "user.delete", userId, async (tx) => {
    const before = await readUser(tx, userId, nowMs);
    const deletion = await deleteAccountInTransaction(tx, userId);
    if (!deletion.deleted) throw new AppError("not_found", "No such user.");
    const { deleted: _deleted, ...rows } = deletion;
    return { result: deletion, before: before ? auditView(before) : null, after: { deleted: true, rows } };
  });
}
