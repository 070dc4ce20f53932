import "server-only";
import { setTimeout as sleep } from "node:timers/promises";
import { UpstreamError, type CaptionDelta, type CaptionRequest, type CaptionResult } from "@/lib/ai/types";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { getKv } from "@/lib/kv";
import type { Logger } from "@/lib/observability/logger";
import { adjustGenerationsInFlight, countModelTokens } from "@/lib/observability/metrics";
import type { Admitted } from "./admit";
import { getProvider } from "./provider";
import { securityEvent } from "./records";
import { engineState } from "./single-flight";
import { parseStoredOutcome, type CaptionOutcome, type Job } from "./types";

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
 * failure is tried once more after a short backoff if the request's deadline leaves room. A
 * streamed retry starts over silently: once the first attempt has shown text, the second one
 * answers in one piece (the finished variants replace what was shown).
 */
async function generateWithRetry(
  req: CaptionRequest,
  deadlineAt: number,
  log: Logger,
  options: { model?: string; onDelta?: (delta: CaptionDelta) => void },
): Promise<CaptionResult> {
  const provider = getProvider();
  let streamed = false;
  const onDelta = options.onDelta
    ? (delta: CaptionDelta) => {
        streamed = true;
        options.onDelta?.(delta);
      }
    : undefined;
  try {
    return await provider.generate(req, { timeoutMs: Math.max(1, deadlineAt - Date.now()), model: options.model, onDelta });
  } catch (error) {
    if (!(error instanceof UpstreamError) || !error.retryable) throw error;
    const backoff = Math.min((error.retryAfterSeconds ?? 0) * 1000 || 200 + Math.random() * 200, 2000);
    if (deadlineAt - Date.now() - backoff < 1000) throw error;
    log.info({ kind: error.kind, backoffMs: Math.round(backoff) }, "model call failed; retrying once");
    await sleep(backoff);
    return provider.generate(req, {
      timeoutMs: Math.max(1, deadlineAt - Date.now()),
      model: options.model,
      onDelta: streamed ? undefined : onDelta,
    });
  }
}

/**
 * Streamed text waits for the moderation verdict: held back until the input is cleared (or
 * moderation is off or unavailable), and dropped for good when it is flagged, so a flagged
 * input never shows a word of output.
 */
function gatedDeltas(job: Job, verdict: Promise<{ flagged: boolean } | null>): ((delta: CaptionDelta) => void) | undefined {
  const sink = job.ctx.stream;
  if (!sink) return undefined;
  let held: CaptionDelta[] | null = [];
  let blocked = false;
  void verdict.then((result) => {
    blocked = result?.flagged === true;
    const release = held ?? [];
    held = null;
    if (!blocked) for (const delta of release) sink.delta(delta);
  });
  return (delta) => {
    if (blocked) return;
    if (held) held.push(delta);
    else sink.delta(delta);
  };
}

/**
 * Regenerate: the captions the user is looking at, to be avoided. What is on screen came from
 * this cache entry (a fresh answer or a regenerate both write it), so the entry names them.
 * Best effort: without it the provider still samples anew.
 */
async function shownCaptions(job: Job, cacheKey: string): Promise<string[] | undefined> {
  if (!job.input.regenerate) return undefined;
  try {
    const raw = await job.ctx.timing.measure("kv", () => getKv().cacheGet(cacheKey));
    if (raw === null) return undefined;
    return parseStoredOutcome(raw).variants.map((v) => v.caption);
  } catch (error) {
    job.ctx.log.warn({ err: error }, "shown captions not read; regenerating without them");
    return undefined;
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
  const avoid = await shownCaptions(job, admitted.cacheKey);
  const req = avoid ? { ...job.req, avoid } : job.req;
  const moderation = moderate(job);
  const onDelta = gatedDeltas(job, moderation);
  let result: CaptionResult;
  state.running += 1;
  adjustGenerationsInFlight(1);
  try {
    [result] = await ctx.timing.measure("model", () =>
      Promise.all([generateWithRetry(req, deadlineAt, ctx.log, { model: admitted.fallbackModel, onDelta }), moderation]),
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
  result.variants.forEach((variant, index) => ctx.stream?.variant(index, variant));
  return {
    ok: true,
    outcome: {
      variants: result.variants,
      ...(result.detectedObject ? { detectedObject: result.detectedObject } : {}),
      provider: result.provider,
      model: result.model,
    },
    usage: result.usage,
    breaker,
  };
}
