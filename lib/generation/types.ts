import { z } from "zod";
import type { CaptionRequest, CaptionResult, ImageMime, Lang, Mode, Platform } from "@/lib/ai/types";
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
  /** The browser's funnel session (a valid `X-Session-Id`), recorded on `generate_success`; null without one. */
  sessionId?: string | null;
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
export const outcomeSchema = z.object({
  caption: z.string(),
  hashtags: z.array(z.string()),
  detectedObject: z.string().optional(),
  provider: z.enum(["openai", "offline"]),
  model: z.string(),
});
export type CaptionOutcome = z.infer<typeof outcomeSchema>;

export function outcomeOf(response: GenerateResponse): CaptionOutcome {
  return outcomeSchema.parse(response);
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
