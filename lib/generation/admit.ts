import "server-only";
import { randomUUID } from "node:crypto";
import { ruleFor } from "@/lib/ai/platform-rules";
import { promptVersion } from "@/lib/ai/prompts";
import type { CaptionControls, CaptionRequest } from "@/lib/ai/types";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { getKv } from "@/lib/kv";
import { countCacheMiss, countQuotaDenial, observeBreakerAdmission } from "@/lib/observability/metrics";
import { dailyLimit, guestQuotaKey, nextUtcMidnightMs, planOf, utcDay } from "@/lib/quota";
import { BREAKER_KEY, BREAKER_PROBE_KEY, CACHE_STATS_KEEP_MS, INFLIGHT_KEY, cacheKey, cacheStatsKeys, sha256 } from "./keys";
import { getDenyList, getProvider } from "./provider";
import { securityEvent } from "./records";
import { engineState } from "./single-flight";
import { parseStoredOutcome, type CaptionOutcome, type GenerateContext, type GenerateInput, type Job } from "./types";

/** Leases outlive the request's own deadline, so a live request never loses its slot. */
export const LEASE_MARGIN_MS = 10_000;

/** Step 0: what every later step needs, worked out once; refuses what no step should see. */
export function prepare(input: GenerateInput, ctx: GenerateContext, ids: { id: string; chargeKey: string }): Job {
  const plan = planOf(ctx.viewer);
  if (input.image && plan !== "pro") {
    throw new AppError("pro_required", "Photo captions are part of the Pro plan.");
  }
  if (getDenyList().check(input.text).blocked) {
    securityEvent(ctx, { eventType: "content_safety_violation", severity: "warn", meta: { source: "denylist" } });
    throw new AppError("content_blocked");
  }
  const controls = controlsOf(input);
  const req: CaptionRequest = { text: input.text, mode: input.mode, lang: input.lang, platform: input.platform, controls, image: input.image };
  const imageHash = input.image ? sha256(input.image.bytes) : undefined;
  const version = promptVersion(req);
  const serializedControls = JSON.stringify([controls.variants, controls.emoji, controls.length, controls.cta, controls.keywords]);
  const cacheKeyFor = (model: string) =>
    cacheKey({ mode: input.mode, lang: input.lang, platform: input.platform, model, promptVersion: version, controls: serializedControls, text: input.text, imageHash });
  const model = getProvider().modelFor(req);
  return {
    input,
    ctx,
    ...ids,
    plan,
    req,
    model,
    cacheKey: cacheKeyFor(model),
    cacheKeyFor,
    inputHash: sha256(input.text, imageHash ?? ""),
    startedAt: Date.now(),
  };
}

/** The controls with the platform's default length filled in (the cache key holds the resolved value). */
export function controlsOf(input: GenerateInput): CaptionControls {
  return {
    variants: input.variants,
    emoji: input.emoji,
    length: input.length ?? ruleFor(input.platform).defaultLength,
    cta: input.cta,
    keywords: input.keywords,
  };
}

/** Admitted: the slot (or a place in the queue), a guest's reserved quota and maybe the breaker's probe are ours until settled. */
export interface Admitted {
  kind: "admitted";
  nowMs: number;
  day: string;
  /** The cache entry this generation fills: the primary model's, or the fallback model's. */
  cacheKey: string;
  /** Set when the breaker is open and the fallback model answers instead. */
  fallbackModel?: string;
  guestQuotaKey?: string;
  /** The guest quota after reserving (0 for users). */
  quotaCount: number;
  holder: string;
  leaseMs: number;
  leaseAcquired: boolean;
  probe: boolean;
}

export type Admission = Admitted | { kind: "hit"; outcome: CaptionOutcome; nowMs: number; day: string; quotaCount: number };

/**
 * Step 1: cache, breaker, a guest's quota and the global in-flight cap, in one Redis round
 * trip (a second one when the breaker is open and a fallback model is configured).
 */
export async function admit(job: Job): Promise<Admission> {
  const env = getEnv();
  const { ctx } = job;
  const nowMs = Date.now();
  const day = utcDay(nowMs);
  const guestKey = ctx.viewer.kind === "guest" ? guestQuotaKey(ctx.ip, day) : undefined;
  const holder = `${engineState().instance}:${randomUUID()}`;
  const leaseMs = env.OPENAI_TIMEOUT_MS + env.GEN_QUEUE_TIMEOUT_MS + LEASE_MARGIN_MS;
  const admitFor = (key: string, skipBreaker: boolean) =>
    ctx.timing.measure("kv", () =>
      getKv().genAdmit({
        cacheKey: key,
        skipBreaker,
        checkCache: !job.input.regenerate,
        breakerKey: BREAKER_KEY,
        probeKey: BREAKER_PROBE_KEY,
        quota: guestKey ? { key: guestKey, limit: dailyLimit("guest"), expireAtMs: nextUtcMidnightMs(nowMs) } : undefined,
        lease: { key: INFLIGHT_KEY, holder, capacity: env.GEN_MAX_INFLIGHT, leaseMs },
        breakerCooldownMs: env.BREAKER_COOLDOWN_MS,
        probeLeaseMs: env.OPENAI_TIMEOUT_MS + LEASE_MARGIN_MS,
        // Hits and misses, counted in Redis within this round trip: shared by every instance.
        stats: { ...cacheStatsKeys(day), expireAtMs: nextUtcMidnightMs(nowMs) + CACHE_STATS_KEEP_MS },
      }),
    );

  let key = job.cacheKey;
  let fallbackModel: string | undefined;
  let result = await admitFor(key, false);
  observeBreakerAdmission(result);
  // Breaker open and a fallback model configured: answer with it instead of failing fast. It
  // has its own cache entries (the model is part of the key) and does not feed the breaker.
  if (result.outcome === "open" && env.OPENAI_FALLBACK_MODEL && getProvider().name === "openai") {
    fallbackModel = env.OPENAI_FALLBACK_MODEL;
    key = job.cacheKeyFor(fallbackModel);
    ctx.log.info({ model: fallbackModel }, "breaker open; using the fallback model");
    result = await admitFor(key, true);
  }

  switch (result.outcome) {
    case "hit":
      return { kind: "hit", outcome: parseStoredOutcome(result.value), nowMs, day, quotaCount: result.quotaCount };
    case "open":
      throw new AppError("upstream_unavailable", undefined, { retryAfterSeconds: result.retryAfterMs / 1000 });
    case "quota_denied":
      countQuotaDenial(job.plan);
      securityEvent(ctx, { eventType: "quota_exceeded", severity: "info", meta: { plan: job.plan } });
      throw new AppError("quota_exceeded", undefined, {
        retryAfterSeconds: (result.ttlMs > 0 ? result.ttlMs : nextUtcMidnightMs(nowMs) - nowMs) / 1000,
      });
    case "ok":
      if (!job.input.regenerate) countCacheMiss();
      return {
        kind: "admitted",
        nowMs,
        day,
        cacheKey: key,
        fallbackModel,
        guestQuotaKey: guestKey,
        quotaCount: result.quotaCount,
        holder,
        leaseMs,
        leaseAcquired: result.leaseAcquired,
        probe: result.probe,
      };
  }
}
