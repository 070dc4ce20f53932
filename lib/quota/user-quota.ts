import type { Db, Queryable } from "@/lib/db";

/**
 * Signed-in users' quota in Postgres. Each charge is one ledger row keyed by an idempotency key
 * (unique), and the day's counter moves only through a conditional upsert, so concurrent
 * requests can never overspend and a retried request is never charged twice. When the plan's
 * daily allowance is used up, an admin-granted credit (profiles.credits) pays instead.
 *
 * A charge pays for one generation, whose row is inserted `pending` in the same transaction:
 * the row is durable (visible to every instance) before the model is called, and a charge
 * never exists without its row.
 */

/** The generation a charge pays for, as its `pending` row. */
export interface PendingGeneration {
  id: string;
  mode: string;
  lang: string;
  platform: string | null;
  inputText: string;
  inputHash: string;
  hasImage: boolean;
  requestId: string;
  createdAt: Date;
}

export interface UserCharge {
  userId: string;
  day: string;
  limit: number;
  /**
   * The charge's ledger key. A retry with the same key is a replay, never a second charge; after
   * the charge was refunded (the attempt failed), the next attempt is charged as `<key>#<n>`.
   */
  idempotencyKey: string;
  generation: PendingGeneration;
}

export type ReserveResult =
  /** Charged now; `chargeKey` is the ledger key to refund if the attempt fails. */
  | { allowed: true; replay: false; source: "daily" | "credit"; chargeKey: string }
  /**
   * An earlier attempt with this key holds a live (unrefunded) charge: nothing is charged. The
   * earlier attempt finished (its row is complete) or died on the way (its row is pending).
   */
  | { allowed: true; replay: true; chargeKey: string }
  | { allowed: false };

class Denied extends Error {}

/** Ledger key of the n-th charge for one idempotency key (0 = the first). */
function attemptKey(key: string, attempt: number): string {
  return attempt === 0 ? key : `${key}#${attempt}`;
}

export async function reserveUserQuota(db: Db, charge: UserCharge): Promise<ReserveResult> {
  const g = charge.generation;
  try {
    return await db.transaction(async (tx) => {
      // The ledger row and the pending generation row in one statement (one round trip).
      const [first] = await tx.query<{ charged: boolean }>(
        `with charge as (
           insert into litstatus.usage_ledger (user_id, day, kind, source, idempotency_key, generation_id)
           values ($1, $2::date, 'charge', 'daily', $3, $4::uuid)
           on conflict (idempotency_key) do nothing
           returning id
         ), pending as (
           insert into litstatus.generations
             (id, user_id, status, mode, lang, platform, input_text, input_hash, has_image, request_id, created_at)
           select $4::uuid, $1, 'pending', $5, $6, $7, $8, $9, $10::boolean, $11, $12::timestamptz
            where exists (select 1 from charge)
           on conflict (id) do nothing
         )
         select exists (select 1 from charge) as charged`,
        [
          charge.userId,
          charge.day,
          charge.idempotencyKey,
          g.id,
          g.mode,
          g.lang,
          g.platform,
          g.inputText,
          g.inputHash,
          g.hasImage,
          g.requestId,
          g.createdAt.toISOString(),
        ],
      );
      if (first?.charged) {
        return { allowed: true, replay: false, source: await spend(tx, charge, charge.idempotencyKey), chargeKey: charge.idempotencyKey } as const;
      }
      return await replayOrRecharge(tx, charge);
    });
  } catch (error) {
    if (error instanceof Denied) return { allowed: false };
    throw error;
  }
}

/**
 * The key was charged before. While a charge of it is live, this attempt rides on it. When
 * every charge was refunded (each attempt failed), this attempt is a new charge — under the
 * next attempt key, so two such attempts at once still make one charge.
 */
async function replayOrRecharge(tx: Queryable, charge: UserCharge): Promise<ReserveResult> {
  const g = charge.generation;
  const [counts] = await tx.query<{ charges: number; refunds: number }>(
    `select count(*) filter (where kind = 'charge')::int as charges, count(*) filter (where kind = 'refund')::int as refunds
       from litstatus.usage_ledger where user_id = $1 and generation_id = $2::uuid`,
    [charge.userId, g.id],
  );
  const charges = counts?.charges ?? 0;
  if (charges > (counts?.refunds ?? 0)) {
    return { allowed: true, replay: true, chargeKey: attemptKey(charge.idempotencyKey, charges - 1) };
  }
  const key = attemptKey(charge.idempotencyKey, charges);
  const inserted = await tx.query(
    `insert into litstatus.usage_ledger (user_id, day, kind, source, idempotency_key, generation_id)
     values ($1, $2::date, 'charge', 'daily', $3, $4::uuid)
     on conflict (idempotency_key) do nothing
     returning id`,
    [charge.userId, charge.day, key, g.id],
  );
  if (inserted.length === 0) return { allowed: true, replay: true, chargeKey: key };
  const source = await spend(tx, charge, key);
  // The failed attempt's row (or none, if its owner deleted it) becomes this attempt's pending row.
  await tx.query(
    `insert into litstatus.generations
       (id, user_id, status, mode, lang, platform, input_text, input_hash, has_image, request_id, created_at)
     values ($1::uuid, $2, 'pending', $3, $4, $5, $6, $7, $8::boolean, $9, $10::timestamptz)
     on conflict (id) do update set status = 'pending', error_code = null, completed_at = null, request_id = excluded.request_id`,
    [g.id, charge.userId, g.mode, g.lang, g.platform, g.inputText, g.inputHash, g.hasImage, g.requestId, g.createdAt.toISOString()],
  );
  return { allowed: true, replay: false, source, chargeKey: key };
}

/** Counts the charge against the day's allowance, else a credit; throws Denied (rolling back) when neither is left. */
async function spend(tx: Queryable, charge: UserCharge, chargeKey: string): Promise<"daily" | "credit"> {
  const counted = await tx.query(
    `insert into litstatus.usage_daily (user_id, day, used)
     select $1, $2::date, 1 where $3::int > 0
     on conflict (user_id, day) do update set used = litstatus.usage_daily.used + 1
       where litstatus.usage_daily.used < $3::int
     returning used`,
    [charge.userId, charge.day, charge.limit],
  );
  if (counted.length > 0) return "daily";
  const credited = await tx.query(
    `with credit as (
       update litstatus.profiles set credits = credits - 1 where user_id = $1 and credits > 0 returning credits
     )
     update litstatus.usage_ledger set source = 'credit' where idempotency_key = $2 and exists (select 1 from credit)
     returning id`,
    [charge.userId, chargeKey],
  );
  if (credited.length === 0) throw new Denied(); // rolls back the ledger row (and the pending row)
  return "credit";
}

/** Gives back one charge, once: the refund has its own ledger key derived from the charge's. */
export async function refundUserQuota(db: Db, chargeKey: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [refund] = await tx.query<{ user_id: string; day: string; source: "daily" | "credit" }>(
      `insert into litstatus.usage_ledger (user_id, day, kind, source, idempotency_key, generation_id)
       select user_id, day, 'refund', source, 'refund:' || idempotency_key, generation_id
         from litstatus.usage_ledger where idempotency_key = $1 and kind = 'charge'
       on conflict (idempotency_key) do nothing
       returning user_id, day::text as day, source`,
      [chargeKey],
    );
    if (!refund) return false;
    if (refund.source === "daily") {
      await tx.query(
        `update litstatus.usage_daily set used = greatest(used - 1, 0) where user_id = $1 and day = $2::date`,
        [refund.user_id, refund.day],
      );
    } else {
      await tx.query(`update litstatus.profiles set credits = credits + 1 where user_id = $1`, [refund.user_id]);
    }
    return true;
  });
}

export interface UserUsage {
  used: number;
  credits: number;
}

/** The SQL expression pair that reads a user's usage ($1 = user id, $2 = day); shared by the statements that return it. */
export const USER_USAGE_SELECT = `select (select used from litstatus.usage_daily where user_id = $1 and day = $2::date) as used,
            (select credits from litstatus.profiles where user_id = $1) as credits`;

export function usageOf(row: { used: number | null; credits: number | null } | undefined): UserUsage {
  return { used: row?.used ?? 0, credits: row?.credits ?? 0 };
}

export async function readUserUsage(db: Queryable, userId: string, day: string): Promise<UserUsage> {
  const [row] = await db.query<{ used: number | null; credits: number | null }>(USER_USAGE_SELECT, [userId, day]);
  return usageOf(row);
}
