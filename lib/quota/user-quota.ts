import type { Db, Queryable } from "@/lib/db";

/**
 * Signed-in users' quota in Postgres. Each charge is one ledger row keyed by an idempotency key
 * (unique), and the day's counter moves only through a conditional upsert, so concurrent
 * requests can never overspend and a retried request is never charged twice. When the plan's
 * daily allowance is used up, an admin-granted credit (profiles.credits) pays instead.
 */

export interface UserCharge {
  userId: string;
  day: string;
  limit: number;
  idempotencyKey: string;
  generationId: string | null;
}

export type ReserveResult =
  | { allowed: true; source: "daily" | "credit"; replay: boolean }
  | { allowed: false };

class Denied extends Error {}

export async function reserveUserQuota(db: Db, charge: UserCharge): Promise<ReserveResult> {
  try {
    return await db.transaction(async (tx) => {
      const inserted = await tx.query<{ id: number }>(
        `insert into litstatus.usage_ledger (user_id, day, kind, source, idempotency_key, generation_id)
         values ($1, $2::date, 'charge', 'daily', $3, $4)
         on conflict (idempotency_key) do nothing
         returning id`,
        [charge.userId, charge.day, charge.idempotencyKey, charge.generationId],
      );
      if (inserted.length === 0) {
        const [existing] = await tx.query<{ source: "daily" | "credit" }>(
          `select source from litstatus.usage_ledger where idempotency_key = $1`,
          [charge.idempotencyKey],
        );
        return { allowed: true, source: existing?.source ?? "daily", replay: true } as const;
      }
      const counted = await tx.query(
        `insert into litstatus.usage_daily (user_id, day, used)
         select $1, $2::date, 1 where $3::int > 0
         on conflict (user_id, day) do update set used = litstatus.usage_daily.used + 1
           where litstatus.usage_daily.used < $3::int
         returning used`,
        [charge.userId, charge.day, charge.limit],
      );
      if (counted.length > 0) return { allowed: true, source: "daily", replay: false } as const;
      const credited = await tx.query(
        `update litstatus.profiles set credits = credits - 1 where user_id = $1 and credits > 0 returning credits`,
        [charge.userId],
      );
      if (credited.length === 0) throw new Denied(); // rolls back the ledger row
      await tx.query(`update litstatus.usage_ledger set source = 'credit' where idempotency_key = $1`, [
        charge.idempotencyKey,
      ]);
      return { allowed: true, source: "credit", replay: false } as const;
    });
  } catch (error) {
    if (error instanceof Denied) return { allowed: false };
    throw error;
  }
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

export async function readUserUsage(db: Queryable, userId: string, day: string): Promise<UserUsage> {
  const [row] = await db.query<{ used: number | null; credits: number | null }>(
    `select (select used from litstatus.usage_daily where user_id = $1 and day = $2::date) as used,
            (select credits from litstatus.profiles where user_id = $1) as credits`,
    [userId, day],
  );
  return { used: row?.used ?? 0, credits: row?.credits ?? 0 };
}
