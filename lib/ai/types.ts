/**
 * The caption provider contract shared by the OpenAI and the offline demo providers, and the
 * request vocabulary and limits the generator UI shares with the server. Imported by client
 * components: keep this module free of server-only imports.
 */

export const MODES = ["standard", "savage", "rizz"] as const;
export type Mode = (typeof MODES)[number];

export const LANGS = ["en", "zh"] as const;
export type Lang = (typeof LANGS)[number];

export const PLATFORMS = ["instagram", "tiktok", "x", "linkedin", "xiaohongshu"] as const;
export type Platform = (typeof PLATFORMS)[number];

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
  /** Already checked by magic bytes; `mime` is the detected type, not the declared one. */
  image?: { bytes: Uint8Array; mime: ImageMime };
}

export type ProviderName = "openai" | "offline";

export interface CaptionResult {
  caption: string;
  hashtags: string[];
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
