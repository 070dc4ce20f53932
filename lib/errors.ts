/** The one error type every layer throws; the route wrapper turns it into the envelope. */

export const ERROR_STATUS = {
  invalid_input: 400,
  content_blocked: 400,
  unauthorized: 401,
  forbidden: 403,
  ip_blocked: 403,
  pro_required: 403,
  account_disabled: 403,
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  quota_exceeded: 429,
  internal: 500,
  busy: 503,
  upstream_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

const DEFAULT_MESSAGE: Record<ErrorCode, string> = {
  invalid_input: "The request is not valid.",
  content_blocked: "This content is not allowed.",
  unauthorized: "Sign in to continue.",
  forbidden: "You are not allowed to do this.",
  ip_blocked: "Access from this address is blocked.",
  pro_required: "This feature needs the Pro plan.",
  account_disabled: "This account is disabled.",
  not_found: "Not found.",
  method_not_allowed: "This method is not allowed here.",
  payload_too_large: "The request is too large.",
  unsupported_media_type: "This content type is not supported.",
  rate_limited: "Too many requests. Slow down and try again shortly.",
  quota_exceeded: "You have used today's quota.",
  internal: "Something went wrong on our side.",
  busy: "We are busy right now. Please try again in a moment.",
  upstream_unavailable: "The caption service is unavailable right now. Please try again soon.",
};

export interface AppErrorOptions {
  /** Seconds until a retry may succeed; sent as `Retry-After`. */
  retryAfterSeconds?: number;
  /** Safe, client-facing details (e.g. which fields failed validation). */
  details?: unknown;
  /** Methods the resource does support; sent as `Allow` (method_not_allowed). */
  allow?: readonly string[];
  cause?: unknown;
}

export class AppError extends Error {
  readonly status: number;
  readonly retryAfterSeconds?: number;
  readonly details?: unknown;
  readonly allow?: readonly string[];

  constructor(readonly code: ErrorCode, message?: string, options: AppErrorOptions = {}) {
    super(message ?? DEFAULT_MESSAGE[code], { cause: options.cause });
    this.name = "AppError";
    this.status = ERROR_STATUS[code];
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.details = options.details;
    this.allow = options.allow;
  }
}

export interface ErrorEnvelope {
  error: { code: ErrorCode; message: string; requestId: string; details?: unknown };
}

/** Unknown errors become `internal` with a fixed message: internals are logged, never echoed. */
export function toAppError(error: unknown): AppError {
  return error instanceof AppError ? error : new AppError("internal", undefined, { cause: error });
}

export function errorEnvelope(error: AppError, requestId: string): ErrorEnvelope {
  return {
    error: {
      code: error.code,
      message: error.message,
      requestId,
      ...(error.details === undefined ? {} : { details: error.details }),
    },
  };
}
