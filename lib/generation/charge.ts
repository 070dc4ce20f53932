import "server-only";
import { setTimeout as sleep } from "node:timers/promises";
import { HOOKS } from "@/lib/ai/types";
import { getDb } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { getKv } from "@/lib/kv";
import { adjustGenerationsQueued, countQuotaDenial } from "@/lib/observability/metrics";
import { dailyLimit, nextUtcMidnightMs } from "@/lib/quota";
import { reserveUserQuota } from "@/lib/quota/user-quota";
import type { Admitted } from "./admit";
import { getGeneration } from "./history";
import { differentRequest } from "./idempotency";
import { INFLIGHT_KEY } from "./keys";
import { securityEvent } from "./records";
import { engineState } from "./single-flight";
import { variantSchema, type CaptionOutcome, type Job } from "./types";

/** A signed-in user's charge for this generation (guests' quota was reserved at admission). */
export interface UserCharge {
  userId: string;
  /** The ledger key to refund if this attempt fails. */
  chargeKey: string;
  /** An earlier attempt with the same Idempotency-Key already paid: nothing was charged now. */
  replay: boolean;
}

/** Step 2: charge a signed-in user (in Postgres, with the generation's `pending` row). */
export async function chargeUser(job: Job, admitted: Admitted): Promise<UserCharge | null> {
  const { viewer, timing } = job.ctx;
  if (viewer.kind !== "user") return null;
  const reserved = await timing.measure("db", async () =>
    reserveUserQuota(await getDb(), {
      userId: viewer.id,
      day: admitted.day,
      limit: dailyLimit(viewer.plan),
      idempotencyKey: job.chargeKey,
      generation: {
        id: job.id,
        mode: job.input.mode,
        lang: job.input.lang,
        platform: job.input.platform ?? null,
        inputText: job.input.text,
        inputHash: job.inputHash,
        hasImage: Boolean(job.input.image),
        requestId: job.ctx.requestId,
        createdAt: new Date(job.startedAt),
      },
    }),
  );
  if (!reserved.allowed) {
    countQuotaDenial(job.plan);
    securityEvent(job.ctx, { eventType: "quota_exceeded", severity: "info", meta: { plan: job.plan } });
    throw new AppError("quota_exceeded", undefined, {
      retryAfterSeconds: (nextUtcMidnightMs(admitted.nowMs) - admitted.nowMs) / 1000,
    });
  }
  return { userId: viewer.id, chargeKey: reserved.chargeKey, replay: reserved.replay };
}

/**
 * A replayed charge whose earlier attempt finished: its row holds the answer (the stored
 * idempotent result is gone: expired, or the Redis that held it was lost), so no model call.
 * null when the earlier attempt died before finishing (its row is still pending): this
 * attempt does the work, on the charge already paid.
 */
export async function finishedEarlier(job: Job, charge: UserCharge): Promise<CaptionOutcome | null> {
  const row = await job.ctx.timing.measure("db", () => getGeneration(charge.userId, job.id));
  if (row?.status !== "complete" || row.caption === null || row.provider === null || row.model === null) return null;
  const { input } = job;
  if (row.text !== input.text || row.mode !== input.mode || row.lang !== input.lang || row.platform !== (input.platform ?? null)) {
    throw differentRequest();
  }
  // Rows from before the caption studio hold one caption and no variants.
  const stored = variantSchema.array().min(1).safeParse((row as { variants?: unknown }).variants);
  return {
    variants: stored.success ? stored.data : [{ caption: row.caption, hashtags: row.hashtags, hook: HOOKS[0], checks: [] }],
    ...(row.detectedObject ? { detectedObject: row.detectedObject } : {}),
    provider: row.provider === "offline" ? "offline" : "openai",
    model: row.model,
  };
}

/** Waits (bounded) for a slot of the global in-flight cap, polling the shared semaphore. */
async function pollForLease(holder: string, capacity: number, leaseMs: number, timeoutMs: number): Promise<boolean> {
  const kv = getKv();
  const until = Date.now() + timeoutMs;
  let delay = 25;
  while (Date.now() < until) {
    await sleep(Math.min(delay, Math.max(0, until - Date.now())));
    if ((await kv.leaseAcquire(INFLIGHT_KEY, holder, capacity, leaseMs)).acquired) return true;
    delay = Math.min(delay * 1.5, 150);
  }
  return false;
}

/**
 * Step 3: a slot of the global in-flight cap (admission may have taken it already), else 503
 * busy after the queue timeout. The queue is bounded in time and in length: each waiter polls
 * the shared semaphore, so a surge must not turn into a flood of Redis calls. When GEN_QUEUE_MAX
 * requests already wait on this instance, the next one is busy at once.
 */
export async function waitForSlot(job: Job, admitted: Admitted): Promise<void> {
  if (admitted.leaseAcquired) return;
  const env = getEnv();
  const state = engineState();
  if (state.queued >= env.GEN_QUEUE_MAX) {
    securityEvent(job.ctx, { eventType: "high_load_reject", severity: "warn", meta: { capacity: env.GEN_MAX_INFLIGHT, queueFull: env.GEN_QUEUE_MAX } });
    throw new AppError("busy", undefined, { retryAfterSeconds: 2 });
  }
  state.queued += 1;
  adjustGenerationsQueued(1);
  const gotSlot = await job.ctx.timing
    .measure("queue", () => pollForLease(admitted.holder, env.GEN_MAX_INFLIGHT, admitted.leaseMs, env.GEN_QUEUE_TIMEOUT_MS))
    .finally(() => {
      state.queued -= 1;
      adjustGenerationsQueued(-1);
    });
  if (!gotSlot) {
    securityEvent(job.ctx, { eventType: "high_load_reject", severity: "warn", meta: { capacity: env.GEN_MAX_INFLIGHT } });
    throw new AppError("busy", undefined, { retryAfterSeconds: 2 });
  }
}
