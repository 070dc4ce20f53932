import "server-only";
import { randomUUID } from "node:crypto";
import { getEnv } from "@/lib/env";
import { utcDay } from "@/lib/quota";
import { admit, prepare, type Admitted } from "./admit";
import { callModel } from "./call-model";
import { chargeUser, finishedEarlier, waitForSlot, type UserCharge } from "./charge";
import { generationIdFor, requestFingerprint, withIdempotency } from "./idempotency";
import { sha256 } from "./keys";
import { serveHit, settle, type Settled, type Worked } from "./settle";
import { flightOf, leadFlight } from "./single-flight";
import { outcomeOf, type GenerateContext, type GenerateInput, type GenerateResponse, type Job } from "./types";

export type { GenerateContext, GenerateInput, GenerateResponse } from "./types";
export { engineGauges } from "./single-flight";

/**
 * POST /api/generate after validation, the one entry point: with an Idempotency-Key, the work
 * runs once per (caller, key) and every retry gets its answer (idempotency.ts); then
 * prepare → single flight → admit → charge → queue → call → settle.
 */
export async function generate(input: GenerateInput, ctx: GenerateContext): Promise<GenerateResponse> {
  const { viewer, idempotencyKey } = ctx;
  if (idempotencyKey === undefined) {
    const id = randomUUID();
    return generateCaption(input, ctx, { id, chargeKey: `gen:${id}` });
  }
  const scope = viewer.kind === "user" ? `user:${viewer.id}` : `ip:${ctx.ip ?? "unknown"}`;
  const env = getEnv();
  return withIdempotency(
    { scope, key: idempotencyKey, fingerprint: requestFingerprint(input), waitMs: env.OPENAI_TIMEOUT_MS + env.GEN_QUEUE_TIMEOUT_MS },
    () =>
      generateCaption(input, ctx, {
        id: generationIdFor(scope, idempotencyKey),
        // The user's ledger key: one charge per (user, key), whatever the timing.
        chargeKey: `idem:${sha256(scope, idempotencyKey)}`,
      }),
  );
}

/** One generation, without idempotency: the steps in order, each handing the next what it needs. */
export async function generateCaption(input: GenerateInput, ctx: GenerateContext, ids: { id: string; chargeKey: string }): Promise<GenerateResponse> {
  const job = prepare(input, ctx, ids);

  // Single flight: an identical miss already in progress on this instance answers for us.
  const inFlight = input.regenerate ? undefined : flightOf(job.cacheKey);
  if (inFlight) {
    const shared = await inFlight;
    if (shared) {
      const nowMs = Date.now();
      return serveHit(job, shared, { nowMs, day: utcDay(nowMs) });
    }
    // The leader produced nothing to share (its quota, a failure): go our own way.
  }
  const flight = input.regenerate ? null : leadFlight(job.cacheKey);
  try {
    const { response, settling } = await lead(job);
    // Identical requests on this instance are served the outcome until its cache entry is written.
    flight?.land(outcomeOf(response), settling);
    return response;
  } catch (error) {
    flight?.land(null);
    throw error;
  }
}

async function lead(job: Job): Promise<Settled> {
  const admission = await admit(job);
  if (admission.kind === "hit") {
    const at = { nowMs: admission.nowMs, day: admission.day, guestQuotaCount: admission.quotaCount };
    return { response: await serveHit(job, admission.outcome, at), settling: null };
  }
  return settle(job, admission, await work(job, admission));
}

/** Everything between admission and settlement; never throws (the settlement gives back what a failure did not earn). */
async function work(job: Job, admitted: Admitted): Promise<Worked> {
  let charge: UserCharge | null = null;
  try {
    charge = await chargeUser(job, admitted);
    if (charge?.replay) {
      const earlier = await finishedEarlier(job, charge);
      if (earlier) return { ok: true, outcome: earlier, breaker: "none", charge, replayed: true };
    }
    await waitForSlot(job, admitted);
  } catch (error) {
    return { ok: false, error, breaker: "none", charge };
  }
  const called = await callModel(job, admitted);
  return called.ok
    ? { ok: true, outcome: called.outcome, usage: called.usage, breaker: called.breaker, charge, replayed: false }
    : { ok: false, error: called.error, breaker: called.breaker, charge };
}
