import "server-only";
import { sweepStuckIn } from "@/lib/admin/generations";
import { recordAudit, type AdminActor } from "@/lib/admin/audit";
import { getDb, type Queryable } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { bearerMatches } from "@/lib/util/bearer";
import { logFor } from "@/lib/observability/logger";

/**
 * Data retention (PRODUCT §8): security events older than RETENTION_SECURITY_DAYS (90), funnel
 * events older than RETENTION_FUNNEL_DAYS (180) and guests' generations (user_id null) older
 * than RETENTION_GUEST_GENERATIONS_DAYS (30) are deleted, in bounded batches so no statement
 * holds locks for long; and stuck `pending` generations are swept to failed. Run from the
 * console (POST /api/admin/retention, audited), `npm run retention`, or the cron route.
 */

/** Rows deleted per statement. */
export const RETENTION_BATCH = 5000;

export interface RetentionResult {
  /** Rows removed, per table of schema litstatus. */
  removed: { security_events: number; funnel_events: number; generations: number };
  /** Stuck pending generations marked failed. */
  swept: number;
  /** What counted as old: rows created before these instants were removed. */
  cutoffs: { security_events: string; funnel_events: string; generations: string };
  days: { security_events: number; funnel_events: number; generations: number };
  ms: number;
}

interface Target {
  table: "security_events" | "funnel_events" | "generations";
  /** Extra condition beyond the age. */
  where?: string;
}

const TARGETS: Target[] = [
  { table: "security_events" },
  { table: "funnel_events" },
  // Only guests' generations: a signed-in user's history is theirs to keep (and delete).
  { table: "generations", where: "user_id is null" },
];

/** Deletes the rows of `target` created before `cutoff`, one batch per statement; returns how many. */
async function deleteOld(db: Queryable, target: Target, cutoff: Date, batch: number): Promise<number> {
  let total = 0;
  for (;;) {
    const [row] = await db.query<{ n: number }>(
      `with doomed as (
         select id from litstatus.${target.table}
          where created_at < $1 ${target.where ? `and ${target.where}` : ""}
          limit $2
       ), gone as (
         delete from litstatus.${target.table} t using doomed d where t.id = d.id returning 1
       )
       select count(*)::int as n from gone`,
      [cutoff.toISOString(), batch],
    );
    const n = row?.n ?? 0;
    total += n;
    if (n < batch) return total;
  }
}

/** The retention windows in force (days), from the environment. */
export function retentionPolicy(): RetentionResult["days"] {
  const env = getEnv();
  return { security_events: env.RETENTION_SECURITY_DAYS, funnel_events: env.RETENTION_FUNNEL_DAYS, generations: env.RETENTION_GUEST_GENERATIONS_DAYS };
}

/** Runs retention once against the database; the whole run, not one transaction (batches commit as they go). */
export async function runRetention(options: { nowMs?: number; batch?: number } = {}): Promise<RetentionResult> {
  const db = await getDb();
  const started = Date.now();
  const nowMs = options.nowMs ?? started;
  const batch = options.batch ?? RETENTION_BATCH;
  const days = retentionPolicy();
  const cutoff = (d: number) => new Date(nowMs - d * 86_400_000);
  const removed = { security_events: 0, funnel_events: 0, generations: 0 };
  for (const target of TARGETS) removed[target.table] = await deleteOld(db, target, cutoff(days[target.table]), batch);
  const swept = (await sweepStuckIn(db)).length;
  const result: RetentionResult = {
    removed,
    swept,
    cutoffs: {
      security_events: cutoff(days.security_events).toISOString(),
      funnel_events: cutoff(days.funnel_events).toISOString(),
      generations: cutoff(days.generations).toISOString(),
    },
    days,
    ms: Date.now() - started,
  };
  logFor("retention").info({ removed, swept, ms: result.ms }, "retention run");
  return result;
}

/** The console's run: retention, then an audit entry with what it removed. */
export async function runRetentionAudited(actor: AdminActor): Promise<RetentionResult> {
  const result = await runRetention();
  // The deletions commit batch by batch (a long run must not hold one transaction); the entry records the outcome.
  await recordAudit(actor, { action: "retention.run", target: null, after: { removed: result.removed, swept: result.swept, days: result.days } });
  return result;
}

export type CronAuth = "ok" | "disabled" | "denied";

/**
 * The cron route's bearer check: `disabled` when CRON_SECRET is unset (the route then answers
 * 404), `denied` on a missing or wrong token. Both sides are hashed first so the comparison takes
 * the same time whatever the token's length or content.
 */
export function checkCronAuthorization(header: string | null): CronAuth {
  const env = getEnv();
  if (!env.CRON_SECRET) return "disabled";
  // During a rotation the previous secret (CRON_SECRET_PREVIOUS) is still accepted.
  return bearerMatches(header, [env.CRON_SECRET, env.CRON_SECRET_PREVIOUS]) ? "ok" : "denied";
}
