import "server-only";
import type { CaptionResult } from "@/lib/ai/types";
import { getDb } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { getKv } from "@/lib/kv";
import { countCacheHit, countGeneration, countGenerationFailure, observeBreakerState } from "@/lib/observability/metrics";
import type { GenSettleResult } from "@/lib/kv/types";
import { afterResponse } from "@/lib/util/after-response";
import { dailyLimit, quotaView, readQuota, type QuotaView } from "@/lib/quota";
import { refundUserQuota } from "@/lib/quota/user-quota";
import type { Admitted } from "./admit";
import type { BreakerOutcome } from "./call-model";
import type { UserCharge } from "./charge";
import { BREAKER_KEY, BREAKER_PROBE_KEY, INFLIGHT_KEY } from "./keys";
import { getProvider } from "./provider";
import { enqueueGeneration, saveUserGeneration, saveUserHit, securityEvent, successEvent, type Finish } from "./records";
import type { CaptionOutcome, GenerateResponse, Job } from "./types";

/** What the work after admission came to: the settlement's only input. */
export type Worked =
  | {
      ok: true;
      outcome: CaptionOutcome;
      usage?: CaptionResult["usage"];
      breaker: BreakerOutcome;
      charge: UserCharge | null;
      /** The answer of an earlier attempt with this Idempotency-Key, read back from its row. */
      replayed: boolean;
    }
  | { ok: false; error: unknown; breaker: BreakerOutcome; charge: UserCharge | null };

function response(job: Job, outcome: CaptionOutcome, cached: boolean, quota: QuotaView, id = job.id): GenerateResponse {
  successEvent(job, cached, outcome.provider);
  countGeneration("success", outcome.provider, cached);
  const [first] = outcome.variants;
  return {
    id,
    caption: first?.caption ?? "",
    hashtags: first?.hashtags ?? [],
    variants: outcome.variants,
    ...(outcome.detectedObject ? { detectedObject: outcome.detectedObject } : {}),
    mode: job.input.mode,
    lang: job.input.lang,
    platform: job.input.platform ?? null,
    cached,
    provider: outcome.provider,
    model: outcome.model,
    quota,
  };
}

function answered(outcome: CaptionOutcome, cached: boolean, extra: Partial<Finish> = {}): Finish {
  const [first] = outcome.variants;
  return {
    status: "complete",
    cached,
    caption: first?.caption ?? null,
    hashtags: first?.hashtags ?? [],
    variants: outcome.variants,
    detectedObject: outcome.detectedObject ?? null,
    provider: outcome.provider,
    model: outcome.model,
    ...extra,
  };
}

/**
 * A cached answer (from the cache at admission, or from an identical flight on this instance):
 * nothing is spent. A user's row is written now together with the quota read (one round trip),
 * unless their history already holds this very answer: then that row answers (same id), so
 * asking twice leaves one entry.
 */
export async function serveHit(job: Job, outcome: CaptionOutcome, at: { nowMs: number; day: string; guestQuotaCount?: number }): Promise<GenerateResponse> {
  const { viewer, ip, timing } = job.ctx;
  countCacheHit();
  const finish = answered(outcome, true, { latencyMs: Date.now() - job.startedAt });
  let quota: QuotaView;
  let id = job.id;
  if (viewer.kind === "user") {
    const saved = await timing.measure("db", () => saveUserHit(job, viewer.id, at.day, finish));
    id = saved.id;
    quota = quotaView(job.plan, dailyLimit(job.plan), saved.used, saved.credits, at.nowMs);
  } else {
    enqueueGeneration(job, finish);
    quota =
      at.guestQuotaCount === undefined
        ? await timing.measure("kv", () => readQuota(viewer, ip, at.nowMs))
        : quotaView("guest", dailyLimit("guest"), at.guestQuotaCount, 0, at.nowMs);
  }
  return response(job, outcome, true, quota, id);
}

/** Cache write, lease release, a guest's refund and the breaker, in one Redis round trip; never throws. */
async function settleKv(job: Job, admitted: Admitted, worked: Worked): Promise<GenSettleResult | null> {
  const env = getEnv();
  const cache = worked.ok && !worked.replayed ? { key: admitted.cacheKey, value: JSON.stringify(worked.outcome), ttlSeconds: env.GEN_CACHE_TTL_SECONDS } : undefined;
  return job.ctx.timing
    .measure("kv", () =>
      getKv().genSettle({
        cache,
        lease: { key: INFLIGHT_KEY, holder: admitted.holder },
        refundQuotaKey: worked.ok ? undefined : admitted.guestQuotaKey,
        breaker: { key: BREAKER_KEY, probeKey: BREAKER_PROBE_KEY, outcome: worked.breaker, threshold: env.BREAKER_FAILURE_THRESHOLD, wasProbe: admitted.probe },
      }),
    )
    .catch((error: unknown) => {
      job.ctx.log.error({ err: error }, "generation settlement failed");
      return null;
    });
}

function reportBreaker(job: Job, settled: GenSettleResult | null): void {
  if (settled) observeBreakerState(settled.state);
  if (settled?.transition === "opened") {
    job.ctx.log.warn({ threshold: getEnv().BREAKER_FAILURE_THRESHOLD }, "circuit breaker opened");
    securityEvent(job.ctx, { eventType: "breaker_open", severity: "error", meta: { breaker: "openai" } });
  } else if (settled?.transition === "closed") {
    job.ctx.log.info("circuit breaker closed");
    securityEvent(job.ctx, { eventType: "breaker_closed", severity: "info", meta: { breaker: "openai" } });
  }
}

/**
 * A failed attempt: a user's charge is refunded and their row marked failed, both awaited
 * (durable before the error is answered). Never throws; logs what it could not do.
 */
async function settleUserFailure(job: Job, day: string, charge: UserCharge, error: unknown): Promise<void> {
  const { timing, log } = job.ctx;
  const errorCode = error instanceof AppError ? error.code : "internal";
  await timing
    .measure("db", async () => {
      await refundUserQuota(await getDb(), charge.chargeKey);
      await saveUserGeneration(job, charge.userId, day, { status: "failed", cached: false, errorCode, latencyMs: Date.now() - job.startedAt });
    })
    .catch((dbError: unknown) => log.error({ err: dbError }, "quota refund or failed record not written"));
}

/** A settled generation: the answer, and the Redis settlement when it is still being written. */
export interface Settled {
  response: GenerateResponse;
  /** Set when the answer goes out before the settlement lands (see settle). */
  settling: Promise<void> | null;
}

/**
 * Step 5: gives back what the outcome did not earn, records it, and answers (or throws the failure).
 *
 * A failure answers only once its settlement landed: the refund, the lease and the breaker's
 * count are what the caller's retry meets. A success that was not the breaker's probe answers
 * without waiting for its Redis settlement (afterResponse): the answer does not depend on it (it
 * never throws), and nothing in it is what a user must see on another instance first. It writes
 * the cache (on this instance the single flight stays up until it lands, engine.ts), frees the
 * lease (held a round trip longer; on a crash it expires like any other) and zeroes the breaker's
 * failure count. After a wait on the model, that round trip was the largest part of the miss's
 * time after the model answered (docs/PERFORMANCE.md, change 14). The probe's settlement closes
 * the breaker, so the next request must find it closed: that one is awaited.
 */
export async function settle(job: Job, admitted: Admitted, worked: Worked): Promise<Settled> {
  const kvSettled = settleKv(job, admitted, worked);
  if (!worked.ok) {
    const { charge, error } = worked;
    countGenerationFailure(error, getProvider().name);
    if (charge) {
      await settleUserFailure(job, admitted.day, charge, error);
    } else if (!(error instanceof AppError)) {
      enqueueGeneration(job, { status: "failed", cached: false, errorCode: "internal", latencyMs: Date.now() - job.startedAt });
    }
    reportBreaker(job, await kvSettled);
    throw error;
  }

  const { viewer, timing } = job.ctx;
  const { charge } = worked;
  let quota: QuotaView;
  if (!charge) {
    enqueueGeneration(job, answered(worked.outcome, false, { latencyMs: Date.now() - job.startedAt }));
    quota = quotaView("guest", dailyLimit("guest"), admitted.quotaCount, 0, admitted.nowMs);
  } else if (worked.replayed) {
    // The row is the earlier attempt's, complete already: only the quota is read.
    quota = await timing.measure("db", () => readQuota(viewer, job.ctx.ip, Date.now()));
  } else {
    const finish = answered(worked.outcome, false, {
      latencyMs: Date.now() - job.startedAt,
      promptTokens: worked.usage?.promptTokens ?? null,
      completionTokens: worked.usage?.completionTokens ?? null,
    });
    const usage = await timing.measure("db", () => saveUserGeneration(job, charge.userId, admitted.day, finish));
    quota = quotaView(job.plan, dailyLimit(job.plan), usage.used, usage.credits, Date.now());
  }
  if (admitted.probe) {
    reportBreaker(job, await kvSettled);
    return { response: response(job, worked.outcome, false, quota), settling: null };
  }
  const settling = kvSettled.then((settled) => reportBreaker(job, settled));
  afterResponse(settling);
  return { response: response(job, worked.outcome, false, quota), settling };
}
