import "server-only";
import { setTimeout as sleep } from "node:timers/promises";
import { UpstreamError, type CaptionRequest, type CaptionResult } from "@/lib/ai/types";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import type { Logger } from "@/lib/observability/logger";
import { adjustGenerationsInFlight, countModelTokens } from "@/lib/observability/metrics";
import type { Admitted } from "./admit";
import { getProvider } from "./provider";
import { securityEvent } from "./records";
import { engineState } from "./single-flight";
import type { CaptionOutcome, Job } from "./types";

/** What the breaker learns from this generation (the fallback model does not feed it). */
export type BreakerOutcome = "success" | "failure" | "none";

export type Called =
  | { ok: true; outcome: CaptionOutcome; usage: CaptionResult["usage"]; breaker: BreakerOutcome }
  | { ok: false; error: unknown; breaker: BreakerOutcome };

function upstreamAppError(error: UpstreamError): AppError {
  if (error.kind === "timeout") {
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
async function generateWithRetry(req: CaptionRequest, deadlineAt: number, log: Logger, model?: string): Promise<CaptionResult> {
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

/** Fails open: the local deny list already ran, and an outage of the moderation endpoint must not take captions down with it. */
function moderate(job: Job) {
  const env = getEnv();
  const provider = getProvider();
  if (env.MODERATION !== "on" || !provider.moderate) return Promise.resolve(null);
  return provider.moderate(job.input.text, { timeoutMs: Math.min(5000, env.OPENAI_TIMEOUT_MS) }).catch((error: unknown) => {
    job.ctx.log.warn({ error: error instanceof Error ? error.message : String(error) }, "moderation unavailable; allowed");
    return null;
  });
}

/**
 * Step 4: the model (moderation alongside) under the hard deadline. Never throws: the outcome
 * says what to answer and what the breaker learns, for the settlement.
 */
export async function callModel(job: Job, admitted: Admitted): Promise<Called> {
  const { ctx } = job;
  const state = engineState();
  const fallback = admitted.fallbackModel !== undefined;
  const deadlineAt = Date.now() + getEnv().OPENAI_TIMEOUT_MS;
  const moderation = moderate(job);
  let result: CaptionResult;
  state.running += 1;
  adjustGenerationsInFlight(1);
  try {
    [result] = await ctx.timing.measure("model", () =>
      Promise.all([generateWithRetry(job.req, deadlineAt, ctx.log, admitted.fallbackModel), moderation]),
    );
  } catch (error) {
    if (!(error instanceof UpstreamError)) return { ok: false, error, breaker: "none" };
    securityEvent(ctx, {
      eventType: error.kind === "invalid_output" ? "model_invalid_response" : "upstream_failure",
      severity: "error",
      meta: { kind: error.kind, status: error.status ?? null, model: job.model },
    });
    return { ok: false, error: upstreamAppError(error), breaker: fallback ? "none" : "failure" };
  } finally {
    state.running -= 1;
    adjustGenerationsInFlight(-1);
  }
  countModelTokens(result.usage);
  const breaker = fallback ? "none" : "success";
  const verdict = await moderation;
  if (verdict?.flagged) {
    securityEvent(ctx, { eventType: "content_safety_violation", severity: "warn", meta: { source: "moderation", categories: verdict.categories } });
    return { ok: false, error: new AppError("content_blocked"), breaker };
  }
  return {
    ok: true,
    outcome: {
      caption: result.caption,
      hashtags: result.hashtags,
      ...(result.detectedObject ? { detectedObject: result.detectedObject } : {}),
      provider: result.provider,
      model: result.model,
    },
    usage: result.usage,
    breaker,
  };
}
