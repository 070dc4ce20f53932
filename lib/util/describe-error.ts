/** Longest description kept: enough for a driver's message and its cause, short enough for a log line. */
const MAX_LENGTH = 200;

/**
 * A short, safe description of a failure for logs and status endpoints. A fetch failure's cause
 * (ECONNREFUSED ...) is kept. @upstash/redis appends ", command was: [...]" with every argument
 * (cached values included) to its messages: that tail is cut so no stored value reaches a log.
 */
export function describeError(error: unknown): string {
  let message = error instanceof Error ? error.message : String(error);
  const cause: unknown = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error && cause.message) message += `: ${cause.message}`;
  message = message.replace(/, command was: [\s\S]*$/, "");
  return message.length > MAX_LENGTH ? `${message.slice(0, MAX_LENGTH)}…` : message;
}
