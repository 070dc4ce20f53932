import "server-only";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { promptFor } from "@/lib/ai/prompts";
import { UpstreamError, type CaptionRequest, type CaptionResult, type ImageMime, type Lang, type Mode, type Platform } from "@/lib/ai/types";
import type { Viewer } from "@/lib/auth/viewer";
import { getDb } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { getRecordWriter } from "@/lib/events";
import type { SecurityEventInput } from "@/lib/events";
import { AppError } from "@/lib/http/errors";
import type { ServerTiming } from "@/lib/http/server-timing";
import { getKv } from "@/lib/kv";
import type { Logger } from "@/lib/observability/logger";
import { countDbRoundTrip } from "@/lib/observability/request-stats";
import { dailyLimit, guestQuotaKey, nextUtcMidnightMs, planOf, quotaView, readQuota, utcDay, type QuotaView } from "@/lib/quota";
import { refundUserQuota, reserveUserQuota } from "@/lib/quota/user-quota";
import { BREAKER_KEY, BREAKER_PROBE_KEY, INFLIGHT_KEY, blockKey, cacheKey as makeCacheKey, sha256 } from "./keys";
import { getDenyList, getProvider } from "./provider";

export interface GenerateInput {
  text: string;
  mode: Mode;
  lang: Lang;
  platform?: Platform;
  regenerate: boolean;
  image?: { bytes: Uint8Array; mime: ImageMime };
}

export interface GenerateContext {
  viewer: Viewer;
  ip: string | null;
  requestId: string;
  idempotencyKey?: string;
  timing: ServerTiming;
  log: Logger;
  path: string;
  userAgent: string | null;
}

export interface GenerateResponse {
  id: string;
  caption: string;
  hashtags: string[];
  detectedObject?: string;
  mode: Mode;
  lang: Lang;
  cached: boolean;
  provider: CaptionResult["provider"];
  model: string;
  quota: QuotaView;
}

/** What the cache and a single flight hand to other requests. */
const outcomeSchema = z.object({
  caption: z.string(),
  hashtags: z.array(z.string()),
  detectedObject: z.string().optional(),
  provider: z.enum(["openai", "offline"]),
  model: z.string(),
});
type CaptionOutcome = z.infer<typeof outcomeSchema>;

/** Per-process state: this instance's lease holder prefix and the single flights in progress. */
const globalForEngine = globalThis as unknown as {
  __litstatusEngine?: { instance: string; flights: Map<string, Promise<CaptionOutcome | null>>; queued: number; running: number };
};
function engineState() {
  globalForEngine.__litstatusEngine ??= { instance: randomUUID().slice(0, 8), flights: new Map(), queued: 0, running: 0 };
  return globalForEngine.__litstatusEngine;
}

/** In-flight and queued generations on this instance (metrics, admin overview). */
export function engineGauges(): { running: number; queued: number } {
  const { running, queued } = engineState();
  return { running, queued };
}

/** Leases outlive the request's own deadline, so a live request never loses its slot. */
const LEASE_MARGIN_MS = 10_000;

function securityEvent(ctx: GenerateContext, event: Omit<SecurityEventInput, "ip" | "userId" | "path" | "userAgent">): void {
  getRecordWriter().securityEvent({
    ...event,
    ip: ctx.ip,
    userId: ctx.viewer.kind === "user" ? ctx.viewer.id : null,
    path: ctx.path,
    userAgent: ctx.userAgent,
  });
}

function upstreamAppError(error: unknown): AppError {
  if (error instanceof UpstreamError && error.kind === "timeout") {
    return new AppError("upstream_unavailable", "The caption service took too long to answer. Please try again.", {
      retryAfterSeconds: 2,
      cause: error,
    });
  }
  return new AppError("upstream_unavailable", undefined, { retryAfterSeconds: 5, cause: error });
}

/**
 * The model call with the one retry this system makes (the SDK makes none): a retryable
 * failure is tried once more after a short backoff if the request's deadline leaves room.
 */
async function callModel(req: CaptionRequest, deadlineAt: number, log: Logger, model?: string): Promise<CaptionResult> {
  const provider = getProvider();
  try {
    return await provider.generate(req, { timeoutMs: Math.max(1, deadlineAt - Date.now()), model });
  } catch (error) {
    if (!(error instanceof UpstreamError) || !error.retryable) throw error;
    const backoff = Math.min((error.retryAfterSeconds ?? 0) * 1000 || 200 + Math.random() * 200, 2000);
    if (deadlineAt - Date.now() - backoff < 1000) throw error;
    log.info({ kind: error.kind, backoffMs: Math.round(backoff) }, "model call failed; retrying once");
    await sleep(backoff);
    return provider.generate(req, { timeoutMs: Math.max(1, deadlineAt - Date.now()), model });
  }
}

/** Waits (bounded) for a slot of the global in-flight cap, polling the shared semaphore. */
async function waitForLease(holder: string, capacity: number, leaseMs: number, timeoutMs: number): Promise<boolean> {
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
 * POST /api/generate after validation: cache → single flight → admission (blocklist, breaker,
 * quota, global cap, in one Redis round trip) → model (moderation alongside) → settlement
 * (cache write, lease release, refund or commit, breaker) in one more round trip.
 */
export async function generateCaption(input: GenerateInput, ctx: GenerateContext): Promise<GenerateResponse> {
  const env = getEnv();
  const { viewer, timing, log } = ctx;
  const plan = planOf(viewer);

  if (input.image && plan !== "pro") {
    throw new AppError("pro_required", "Photo captions are part of the Pro plan.");
  }
  const denied = getDenyList().check(input.text);
  if (denied.blocked) {
    securityEvent(ctx, { eventType: "content_safety_violation", severity: "warn", meta: { source: "denylist" } });
    throw new AppError("content_blocked");
  }

  const req: CaptionRequest = { text: input.text, mode: input.mode, lang: input.lang, platform: input.platform, image: input.image };
  const provider = getProvider();
  const model = provider.modelFor(req);
  const imageHash = input.image ? sha256(input.image.bytes) : undefined;
  const key = makeCacheKey({
    mode: input.mode,
    lang: input.lang,
    platform: input.platform,
    model,
    promptVersion: promptFor(req).version,
    text: input.text,
    imageHash,
  });
  const inputHash = sha256(input.text, imageHash ?? "");
  const id = randomUUID();
  const started = Date.now();
  const base = { id, mode: input.mode, lang: input.lang };
  const record = (status: "pending" | "complete" | "failed", extra: Partial<Parameters<ReturnType<typeof getRecordWriter>["generation"]>[0]> = {}) =>
    getRecordWriter().generation({
      id,
      userId: viewer.kind === "user" ? viewer.id : null,
      status,
      mode: input.mode,
      lang: input.lang,
      platform: input.platform ?? null,
      inputText: viewer.kind === "user" ? input.text : null,
      inputHash,
      hasImage: Boolean(input.image),
      cached: false,
      requestId: ctx.requestId,
      createdAt: new Date(started),
      ...extra,
    });
  type RecordExtra = Parameters<typeof record>[1];
  const served = async (outcome: CaptionOutcome, cached: boolean, quota: QuotaView, extra: RecordExtra = {}): Promise<GenerateResponse> => {
    record("complete", {
      ...extra,
      caption: outcome.caption,
      hashtags: outcome.hashtags,
      detectedObject: outcome.detectedObject ?? null,
      provider: outcome.provider,
      model: outcome.model,
      cached,
      latencyMs: Date.now() - started,
      completedAt: new Date(),
    });
    getRecordWriter().funnelEvent({
      event: "generate_success",
      userId: viewer.kind === "user" ? viewer.id : null,
      path: ctx.path,
      lang: input.lang,
      meta: { mode: input.mode, cached, provider: outcome.provider },
    });
    return { ...base, ...outcome, cached, quota };
  };

  // Single flight: an identical miss already in progress on this instance answers for us.
  const state = engineState();
  if (!input.regenerate) {
    const flight = state.flights.get(key);
    if (flight) {
      // A follower skips admission, where the blocklist is checked: read it while waiting.
      const blocked = getKv()
        .cacheGet(blockKey(ctx.ip))
        .catch(() => null);
      const outcome = await flight;
      if ((await blocked) !== null) {
        securityEvent(ctx, { eventType: "ip_blocked", severity: "warn" });
        throw new AppError("ip_blocked");
      }
      if (outcome) {
        const nowMs = Date.now();
        const quota = await timing.measure(viewer.kind === "user" ? "db" : "kv", () => readQuota(viewer, ctx.ip, nowMs));
        return served(outcome, true, quota);
      }
      // The leader produced nothing to share (its quota, a failure): go our own way.
    }
  }
  let finishFlight: (outcome: CaptionOutcome | null) => void = () => {};
  let ownFlight: Promise<CaptionOutcome | null> | undefined;
  if (!input.regenerate && !state.flights.has(key)) {
    ownFlight = new Promise((resolve) => (finishFlight = resolve));
    state.flights.set(key, ownFlight);
  }
  let shared: CaptionOutcome | null = null;
  try {
    const response = await leaderPath();
    shared = outcomeSchema.parse(response);
    return response;
  } finally {
    // Only the flight this request registered is settled and removed. (After a failed flight,
    // several followers go their own way at once and only the first registers a new flight;
    // the others must not remove it, or whoever waits on it would never be answered.)
    if (ownFlight) {
      finishFlight(shared);
      if (state.flights.get(key) === ownFlight) state.flights.delete(key);
    }
  }

  async function leaderPath(): Promise<GenerateResponse> {
    const kv = getKv();
    const nowMs = Date.now();
    const day = utcDay(nowMs);
    const guestKey = viewer.kind === "guest" ? guestQuotaKey(ctx.ip, day) : undefined;
    const holder = `${state.instance}:${randomUUID()}`;
    const leaseMs = env.OPENAI_TIMEOUT_MS + env.GEN_QUEUE_TIMEOUT_MS + LEASE_MARGIN_MS;
    const admitFor = (cacheKey: string, skipBreaker: boolean) =>
      timing.measure("kv", () =>
        kv.genAdmit({
          cacheKey,
          skipBreaker,
          checkCache: !input.regenerate,
          blockKey: blockKey(ctx.ip),
          breakerKey: BREAKER_KEY,
          probeKey: BREAKER_PROBE_KEY,
          quota: guestKey ? { key: guestKey, limit: dailyLimit("guest"), expireAtMs: nextUtcMidnightMs(nowMs) } : undefined,
          lease: { key: INFLIGHT_KEY, holder, capacity: env.GEN_MAX_INFLIGHT, leaseMs },
          breakerCooldownMs: env.BREAKER_COOLDOWN_MS,
          probeLeaseMs: env.OPENAI_TIMEOUT_MS + LEASE_MARGIN_MS,
        }),
      );
    let admit = await admitFor(key, false);
    // Breaker open and a fallback model configured: answer with it instead of failing fast. It
    // has its own cache entries (the model is part of the key) and does not feed the breaker.
    let activeKey = key;
    let fallbackModel: string | undefined;
    if (admit.outcome === "open" && env.OPENAI_FALLBACK_MODEL && provider.name === "openai") {
      fallbackModel = env.OPENAI_FALLBACK_MODEL;
      activeKey = makeCacheKey({
        mode: input.mode,
        lang: input.lang,
        platform: input.platform,
        model: fallbackModel,
        promptVersion: promptFor(req).version,
        text: input.text,
        imageHash,
      });
      log.info({ model: fallbackModel }, "breaker open; using the fallback model");
      admit = await admitFor(activeKey, true);
    }

    switch (admit.outcome) {
      case "blocked":
        securityEvent(ctx, { eventType: "ip_blocked", severity: "warn" });
        throw new AppError("ip_blocked", undefined, { retryAfterSeconds: admit.ttlMs > 0 ? admit.ttlMs / 1000 : undefined });
      case "hit": {
        const outcome = outcomeSchema.parse(JSON.parse(admit.value));
        const quota =
          viewer.kind === "user"
            ? await timing.measure("db", () => readQuota(viewer, ctx.ip, nowMs))
            : quotaView("guest", dailyLimit("guest"), admit.quotaCount, 0, nowMs);
        return served(outcome, true, quota);
      }
      case "open":
        throw new AppError("upstream_unavailable", undefined, { retryAfterSeconds: admit.retryAfterMs / 1000 });
      case "quota_denied":
        securityEvent(ctx, { eventType: "quota_exceeded", severity: "info", meta: { plan } });
        throw new AppError("quota_exceeded", undefined, {
          retryAfterSeconds: (admit.ttlMs > 0 ? admit.ttlMs : nextUtcMidnightMs(nowMs) - nowMs) / 1000,
        });
      case "ok":
        break;
    }

    // Admitted: from here on the lease (and a guest's reserved quota, and a breaker probe)
    // are ours, and the settlement in `finally` gives back whatever the outcome did not earn.
    let breakerOutcome: "success" | "failure" | "none" = "none";
    let success = false;
    let cacheValue: string | undefined;
    let userChargeKey: string | undefined;
    try {
      if (viewer.kind === "user") {
        const chargeKey = `gen:${id}`;
        const reserved = await timing.measure("db", async () => {
          countDbRoundTrip();
          return reserveUserQuota(await getDb(), {
            userId: viewer.id,
            day,
            limit: dailyLimit(viewer.plan),
            idempotencyKey: chargeKey,
            generationId: id,
          });
        });
        if (!reserved.allowed) {
          securityEvent(ctx, { eventType: "quota_exceeded", severity: "info", meta: { plan } });
          throw new AppError("quota_exceeded", undefined, { retryAfterSeconds: (nextUtcMidnightMs(nowMs) - nowMs) / 1000 });
        }
        userChargeKey = chargeKey;
      }

      if (!admit.leaseAcquired) {
        state.queued += 1;
        const gotSlot = await timing
          .measure("queue", () => waitForLease(holder, env.GEN_MAX_INFLIGHT, leaseMs, env.GEN_QUEUE_TIMEOUT_MS))
          .finally(() => (state.queued -= 1));
        if (!gotSlot) {
          securityEvent(ctx, { eventType: "high_load_reject", severity: "warn", meta: { capacity: env.GEN_MAX_INFLIGHT } });
          throw new AppError("busy", undefined, { retryAfterSeconds: 2 });
        }
      }

      if (viewer.kind === "user") record("pending");
      state.running += 1;
      const deadlineAt = Date.now() + env.OPENAI_TIMEOUT_MS;
      const moderation =
        env.MODERATION === "on" && provider.moderate
          ? provider.moderate(input.text, { timeoutMs: Math.min(5000, env.OPENAI_TIMEOUT_MS) }).catch((error: unknown) => {
              // Fail open: the local deny list already ran, and an outage of the moderation
              // endpoint must not take captions down with it. Logged for the operator.
              log.warn({ error: error instanceof Error ? error.message : String(error) }, "moderation unavailable; allowed");
              return null;
            })
          : Promise.resolve(null);
      let result: CaptionResult;
      try {
        [result] = await timing.measure("model", () => Promise.all([callModel(req, deadlineAt, log, fallbackModel), moderation]));
      } catch (error) {
        if (error instanceof UpstreamError) {
          breakerOutcome = fallbackModel ? "none" : "failure";
          securityEvent(ctx, {
            eventType: error.kind === "invalid_output" ? "model_invalid_response" : "upstream_failure",
            severity: "error",
            meta: { kind: error.kind, status: error.status ?? null, model },
          });
          throw upstreamAppError(error);
        }
        throw error;
      } finally {
        state.running -= 1;
      }
      breakerOutcome = fallbackModel ? "none" : "success";
      const verdict = await moderation;
      if (verdict?.flagged) {
        securityEvent(ctx, {
          eventType: "content_safety_violation",
          severity: "warn",
          meta: { source: "moderation", categories: verdict.categories },
        });
        throw new AppError("content_blocked");
      }

      const outcome: CaptionOutcome = {
        caption: result.caption,
        hashtags: result.hashtags,
        ...(result.detectedObject ? { detectedObject: result.detectedObject } : {}),
        provider: result.provider,
        model: result.model,
      };
      cacheValue = JSON.stringify(outcome);
      success = true;
      const quota =
        viewer.kind === "user"
          ? await timing.measure("db", () => readQuota(viewer, ctx.ip, Date.now()))
          : quotaView("guest", dailyLimit("guest"), admit.quotaCount, 0, nowMs);
      return await served(outcome, false, quota, {
        promptTokens: result.usage?.promptTokens ?? null,
        completionTokens: result.usage?.completionTokens ?? null,
      });
    } catch (error) {
      if (error instanceof AppError && viewer.kind === "user" && error.code !== "quota_exceeded") {
        record("failed", { errorCode: error.code, latencyMs: Date.now() - started, completedAt: new Date() });
      } else if (!(error instanceof AppError)) {
        record("failed", { errorCode: "internal", latencyMs: Date.now() - started, completedAt: new Date() });
      }
      throw error;
    } finally {
      const settle = await timing
        .measure("kv", () =>
          kv.genSettle({
            cache: cacheValue ? { key: activeKey, value: cacheValue, ttlSeconds: env.GEN_CACHE_TTL_SECONDS } : undefined,
            lease: { key: INFLIGHT_KEY, holder },
            refundQuotaKey: success ? undefined : guestKey,
            breaker: {
              key: BREAKER_KEY,
              probeKey: BREAKER_PROBE_KEY,
              outcome: breakerOutcome,
              threshold: env.BREAKER_FAILURE_THRESHOLD,
              wasProbe: admit.probe,
            },
          }),
        )
        .catch((error: unknown) => {
          log.error({ err: error }, "generation settlement failed");
          return null;
        });
      if (settle?.transition === "opened") {
        log.warn({ threshold: env.BREAKER_FAILURE_THRESHOLD }, "circuit breaker opened");
        securityEvent(ctx, { eventType: "breaker_open", severity: "error", meta: { breaker: "openai" } });
      } else if (settle?.transition === "closed") {
        log.info("circuit breaker closed");
        securityEvent(ctx, { eventType: "breaker_closed", severity: "info", meta: { breaker: "openai" } });
      }
      if (!success && userChargeKey) {
        const chargeKey = userChargeKey;
        await timing
          .measure("db", async () => {
            countDbRoundTrip();
            await refundUserQuota(await getDb(), chargeKey);
          })
          .catch((error: unknown) => log.error({ err: error }, "quota refund failed"));
      }
    }
  }
}
