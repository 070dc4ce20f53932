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

/** What a client is told to wait when the database cannot be reached (docs/RELIABILITY.md, scenario 1). */
export const DATABASE_UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** postgres.js and Node socket codes for a connection that could not be made or was lost. */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
]);

/**
 * The database is unreachable (down, restarting, or the connection dropped) rather than the
 * query being wrong: a connection code, SQLSTATE class 08 (connection exception) or 57P01-57P03
 * (shut down, crashed, starting up). Such a failure is temporary: 503 with Retry-After, not 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return false;
  return CONNECTION_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code) || /^57P0[123]$/.test(code);
}

/**
 * Unknown errors become `internal` with a fixed message: internals are logged, never echoed. An
 * unreachable database becomes `busy` (503) with Retry-After: the request may succeed soon.
 */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (isDatabaseUnavailable(error)) {
    return new AppError("busy", undefined, { retryAfterSeconds: DATABASE_UNAVAILABLE_RETRY_AFTER_SECONDS, cause: error });
  }
  return new AppError("internal", undefined, { cause: error });
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
