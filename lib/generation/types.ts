import { z } from "zod";
import {
  CHECK_RULES,
  HOOKS,
  type CaptionDelta,
  type CaptionRequest,
  type CaptionResult,
  type CaptionVariant,
  type EmojiLevel,
  type ImageMime,
  type Lang,
  type Length,
  type Mode,
  type Platform,
} from "@/lib/ai/types";
import type { Viewer } from "@/lib/auth/viewer";
import type { Logger } from "@/lib/observability/logger";
import type { ServerTiming } from "@/lib/observability/server-timing";
import type { QuotaPlan, QuotaView } from "@/lib/quota";

export interface GenerateInput {
  text: string;
  mode: Mode;
  lang: Lang;
  platform?: Platform;
  regenerate: boolean;
  /** The caption studio's controls (PRODUCT §3a); defaults applied by the route's schema. */
  variants: number;
  emoji: EmojiLevel;
  /** Absent: the platform's default length. */
  length?: Length;
  cta: boolean;
  keywords: string[];
  image?: { bytes: Uint8Array; mime: ImageMime };
}

/** Where a streamed generation (`Accept: text/event-stream`) sends its pieces before the answer. */
export interface GenerateStream {
  /** Caption text as the model writes it; only once the input has passed moderation. */
  delta(delta: CaptionDelta): void;
  /** A finished, normalized variant. */
  variant(index: number, variant: CaptionVariant): void;
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
  /** The browser's funnel session (a valid `X-Session-Id`), recorded on `generate_success`; null without one. */
  sessionId?: string | null;
  /** Set for a streamed answer. */
  stream?: GenerateStream;
}

export interface GenerateResponse {
  id: string;
  /** The first variant's, for clients that show one caption. */
  caption: string;
  hashtags: string[];
  variants: CaptionVariant[];
  detectedObject?: string;
  mode: Mode;
  lang: Lang;
  platform: Platform | null;
  cached: boolean;
  provider: CaptionResult["provider"];
  model: string;
  quota: QuotaView;
}

/** What the cache and a single flight hand to other requests. */
export const variantSchema = z.object({
  caption: z.string(),
  hashtags: z.array(z.string()),
  hook: z.enum(HOOKS),
  checks: z.array(z.object({ rule: z.enum(CHECK_RULES), status: z.enum(["pass", "warn"]), message: z.string() })),
});

export const outcomeSchema = z.object({
  variants: z.array(variantSchema).min(1),
  detectedObject: z.string().optional(),
  provider: z.enum(["openai", "offline"]),
  model: z.string(),
});
export type CaptionOutcome = z.infer<typeof outcomeSchema>;

/** Cached answers recently read, by their stored text: the same text always parses to the same outcome. */
const parsedOutcomes = new Map<string, CaptionOutcome>();
const PARSED_OUTCOMES_MAX = 256;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}

/**
 * A cache entry's stored text as an outcome, validated. A popular caption is read on every hit:
 * its text is parsed and checked once, then answered from a small in-process memo (the most
 * recently used entries, by their exact text). The outcome is frozen: it is shared by every
 * request that reads the same text.
 */
export function parseStoredOutcome(stored: string): CaptionOutcome {
  const known = parsedOutcomes.get(stored);
  if (known) {
    parsedOutcomes.delete(stored); // most recently used last
    parsedOutcomes.set(stored, known);
    return known;
  }
  const outcome = deepFreeze(outcomeSchema.parse(JSON.parse(stored)));
  parsedOutcomes.set(stored, outcome);
  if (parsedOutcomes.size > PARSED_OUTCOMES_MAX) parsedOutcomes.delete(parsedOutcomes.keys().next().value!);
  return outcome;
}

export function outcomeOf(response: GenerateResponse): CaptionOutcome {
  const { variants, detectedObject, provider, model } = response;
  return { variants, ...(detectedObject ? { detectedObject } : {}), provider, model };
}

/** One generation request, worked out once and handed from step to step. */
export interface Job {
  input: GenerateInput;
  ctx: GenerateContext;
  /** The generation's id: random, or derived from (caller, Idempotency-Key) so a retry names the same one. */
  id: string;
  /** A signed-in user's ledger key for the charge (derived from the Idempotency-Key when there is one). */
  chargeKey: string;
  plan: QuotaPlan;
  req: CaptionRequest;
  /** The primary model; the cache key is `cacheKeyFor(model)`. */
  model: string;
  cacheKey: string;
  /** The cache key for another model (the fallback model's answers are cached apart). */
  cacheKeyFor(model: string): string;
  /** Hash of the text and image (what the generation row keeps for guests). */
  inputHash: string;
  startedAt: number;
}
