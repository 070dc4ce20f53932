import "server-only";
import { setTimeout as sleep } from "node:timers/promises";
import { getKv } from "@/lib/kv";
import { AppError } from "@/lib/http/errors";
import { sha256 } from "./keys";

const RESULT_TTL_SECONDS = 24 * 60 * 60;
const KEY_PATTERN = /^[\x21-\x7e]{1,200}$/;

/** Validates an `Idempotency-Key` header: printable ASCII, 1–200 characters. */
export function parseIdempotencyKey(header: string | null): string | undefined {
  if (header === null) return undefined;
  if (!KEY_PATTERN.test(header)) {
    throw new AppError("invalid_input", "Idempotency-Key must be 1-200 printable ASCII characters.");
  }
  return header;
}

/**
 * Runs `work` once per (caller, key): the first successful result is stored for 24 h and
 * returned to every retry; a retry that arrives while the first is still running waits for it
 * (up to `waitMs`). Failures are not stored, so a retry after a failure runs again — and the
 * failure was refunded, so it is still charged at most once.
 */
export async function withIdempotency<T>(scope: string, key: string | undefined, waitMs: number, work: () => Promise<T>): Promise<T> {
  if (key === undefined) return work();
  const kv = getKv();
  const resultKey = `idem:${sha256(scope, key)}`;
  const lockKey = `${resultKey}:lock`;
  const until = Date.now() + waitMs;
  for (;;) {
    const stored = await kv.cacheGet(resultKey);
    if (stored !== null) return JSON.parse(stored) as T;
    const lock = await kv.incrementWithinLimit(lockKey, 1, Date.now() + waitMs);
    if (lock.allowed) break;
    if (Date.now() >= until) {
      throw new AppError("busy", "A request with this Idempotency-Key is still being processed.", { retryAfterSeconds: 2 });
    }
    await sleep(100);
  }
  try {
    const result = await work();
    await kv.cacheSet(resultKey, JSON.stringify(result), RESULT_TTL_SECONDS);
    return result;
  } finally {
    await kv.cacheDelete(lockKey);
  }
}
