/**
 * The caption provider contract shared by the OpenAI and the offline demo providers, and the
 * request vocabulary and limits the generator UI shares with the server. Imported by client
 * components: keep this module free of server-only imports.
 */

export const MODES = ["standard", "savage", "rizz"] as const;
export type Mode = (typeof MODES)[number];

export const LANGS = ["en", "zh"] as const;
export type Lang = (typeof LANGS)[number];

export const PLATFORMS = ["instagram", "tiktok", "x", "linkedin", "xiaohongshu", "threads"] as const;
export type Platform = (typeof PLATFORMS)[number];

/** How many emoji a caption carries: none, a few (1–3), or many (4 or more). */
export const EMOJI_LEVELS = ["none", "few", "many"] as const;
export type EmojiLevel = (typeof EMOJI_LEVELS)[number];

/** The caption's length band; each platform has its own bands and default (lib/ai/platform-rules.ts). */
export const LENGTHS = ["short", "medium", "long"] as const;
export type Length = (typeof LENGTHS)[number];

/**
 * The kinds of opening line a variant may use. Variants of one request use different hooks, and
 * the hook is labelled in the UI and recorded on copy events (the funnel's "variant" breakdown).
 */
export const HOOKS = ["question", "bold_claim", "story", "relatable", "tease", "how_to"] as const;
export type Hook = (typeof HOOKS)[number];

export const MAX_VARIANTS = 3;
export const MAX_KEYWORDS = 5;
export const MAX_KEYWORD_CHARS = 30;

/** The caption studio's controls (PRODUCT §3a), with defaults applied. */
export interface CaptionControls {
  /** 1–MAX_VARIANTS captions from one model call. */
  variants: number;
  emoji: EmojiLevel;
  /** Already resolved: the platform's default when the request named none. */
  length: Length;
  /** Ask for a call to action. */
  cta: boolean;
  /** ≤ MAX_KEYWORDS terms to weave in, each ≤ MAX_KEYWORD_CHARS, deduplicated case-insensitively. */
  keywords: string[];
}

/** One rule of the platform table, checked on a finished variant. */
export const CHECK_RULES = ["length", "title", "hook", "hashtags", "band", "emoji", "keywords", "cta"] as const;
export type CheckRule = (typeof CHECK_RULES)[number];

export interface CaptionCheck {
  rule: CheckRule;
  /** `warn` exactly when the finished caption bends the rule (or had to be shortened to keep it). */
  status: "pass" | "warn";
  /** A short human sentence in the caption's language, shown as the lint line under the caption. */
  message: string;
}

export interface CaptionVariant {
  caption: string;
  hashtags: string[];
  hook: Hook;
  checks: CaptionCheck[];
}

/** A streamed piece of a variant's caption text, as the model writes it. */
export interface CaptionDelta {
  variant: number;
  text: string;
}

export const IMAGE_MIMES = ["image/jpeg", "image/png", "image/webp"] as const;
export type ImageMime = (typeof IMAGE_MIMES)[number];

/** The most a description may hold, in characters as people count them (code points), after trimming. */
export const MAX_TEXT_CHARS = 2000;

/** The largest image a Pro user may attach. */
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

export interface CaptionRequest {
  /** The user's description, already validated (1–MAX_TEXT_CHARS characters after trimming). */
  text: string;
  mode: Mode;
  lang: Lang;
  platform?: Platform;
  controls: CaptionControls;
  /** Already checked by magic bytes; `mime` is the detected type, not the declared one. */
  image?: { bytes: Uint8Array; mime: ImageMime };
  /**
   * Regenerate: captions the user has already seen for this request; every variant returned
   * must differ from each of them. Absent on a first generation.
   */
  avoid?: string[];
}

export type ProviderName = "openai" | "offline";

export interface CaptionResult {
  /** `controls.variants` of them (at least one), each already normalized to the platform's rules. */
  variants: CaptionVariant[];
  detectedObject?: string;
  provider: ProviderName;
  /** The model that was asked (not the dated snapshot the API may report back). */
  model: string;
  usage?: { promptTokens: number; completionTokens: number };
}

export interface GenerateOptions {
  signal?: AbortSignal;
  /** Deadline for this one attempt; the caller owns retries and the overall deadline. */
  timeoutMs: number;
  /** Overrides `modelFor(req)`, e.g. with a fallback model while the breaker is open. */
  model?: string;
  /**
   * Streaming: called with each piece of caption text as the model writes it (in order per
   * variant). Without it the provider may answer in one piece.
   */
  onDelta?: (delta: CaptionDelta) => void;
}

export interface ModerateOptions {
  signal?: AbortSignal;
  timeoutMs: number;
}

export interface ModerationResult {
  flagged: boolean;
  /** Names of the categories that were flagged, e.g. `["harassment", "violence"]`. */
  categories: string[];
}

export interface CaptionProvider {
  name: ProviderName;
  /** The model `generate` uses for this request unless `opts.model` overrides it (part of the cache key). */
  modelFor(req: CaptionRequest): string;
  /** Rejects with `UpstreamError` for every upstream failure; any other rejection is a bug. */
  generate(req: CaptionRequest, opts: GenerateOptions): Promise<CaptionResult>;
  /** Absent when the provider has no moderation service (offline). */
  moderate?(text: string, opts: ModerateOptions): Promise<ModerationResult>;
}

export type UpstreamErrorKind =
  | "rate_limited"
  | "server_error"
  | "timeout"
  | "invalid_output"
  | "network"
  | "bad_request";

/**
 * Whether one more attempt may succeed. `invalid_output` is retryable: models occasionally emit
 * malformed JSON and a second sample usually parses (the engine makes at most one retry anyway).
 * `bad_request` (any other 4xx, e.g. a bad key, an unknown model or a rejected input) is not:
 * the same request fails the same way.
 */
const RETRYABLE: Record<UpstreamErrorKind, boolean> = {
  rate_limited: true,
  server_error: true,
  timeout: true,
  invalid_output: true,
  network: true,
  bad_request: false,
};

export interface UpstreamErrorOptions {
  /** From the upstream `Retry-After` (or `retry-after-ms`) header, in whole seconds. */
  retryAfterSeconds?: number;
  /** The upstream HTTP status, when there was a response. */
  status?: number;
  cause?: unknown;
}

/** A failure of the model provider, never shown to users as-is (the engine maps it to an AppError). */
export class UpstreamError extends Error {
  readonly retryable: boolean;
  readonly retryAfterSeconds?: number;
  readonly status?: number;

  constructor(
    readonly kind: UpstreamErrorKind,
    message: string,
    options: UpstreamErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "UpstreamError";
    this.retryable = RETRYABLE[kind];
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.status = options.status;
  }
}
