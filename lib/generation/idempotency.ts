import "server-only";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { AppError } from "@/lib/errors";
import { getKv } from "@/lib/kv";
import { logFor } from "@/lib/observability/logger";
import { sha256 } from "./keys";
import type { GenerateInput } from "./types";

const RESULT_TTL_SECONDS = 24 * 60 * 60;
const KEY_PATTERN = /^[\x21-\x7e]{1,200}$/;

/**
 * The lock is a capacity-1 lease: only its holder renews or releases it, and a dead holder's
 * lock frees itself after LOCK_LEASE_MS. A live holder renews it every LOCK_HEARTBEAT_MS, so the
 * lock lasts exactly as long as the work (admission, charge, queue, model, settlement, result).
 */
export const LOCK_LEASE_MS = 2000;
const LOCK_HEARTBEAT_MS = 500;
/** How long past the work's own deadline (queue + model) a retry waits for the holder. */
const WAIT_MARGIN_MS = 10_000;
const POLL_MS = 100;

/** Validates an `Idempotency-Key` header: printable ASCII, 1–200 characters. */
export function parseIdempotencyKey(header: string | null): string | undefined {
  if (header === null) return undefined;
  if (!KEY_PATTERN.test(header)) {
    throw new AppError("invalid_input", "Idempotency-Key must be 1-200 printable ASCII characters.");
  }
  return header;
}

export function differentRequest(): AppError {
  return new AppError("invalid_input", "This Idempotency-Key was already used with a different request.");
}

/** Everything that shapes the answer; a key reused with another fingerprint is refused. */
export function requestFingerprint(input: GenerateInput): string {
  return sha256(
    JSON.stringify([
      input.text,
      input.mode,
      input.lang,
      input.platform ?? null,
      input.regenerate,
      input.variants,
      input.emoji,
      input.length ?? null,
      input.cta,
      input.keywords,
    ]),
    input.image ? sha256(input.image.bytes) : "",
  ).slice(0, 32);
}

/** The generation id for (caller, key), as a UUID: a retry names the same generation (and ledger charge). */
export function generationIdFor(scope: string, key: string): string {
  const h = sha256("generation", scope, key);
  const variant = ((parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export interface IdempotencyLock {
  readonly holder: string;
  /** Takes the lock, or renews it when this holder has it; false while another holder has it. */
  acquire(): Promise<boolean>;
  /** Gives the lock back if (and only if) this holder has it. */
  release(): Promise<void>;
}

export function idempotencyLock(lockKey: string, holder: string): IdempotencyLock {
  const kv = getKv();
  return {
    holder,
    acquire: async () => (await kv.leaseAcquire(lockKey, holder, 1, LOCK_LEASE_MS)).acquired,
    release: () => kv.leaseRelease(lockKey, holder),
  };
}

/** Runs `work` while renewing the lock; a renewal that finds the lock lost is logged (the ledger still charges once). */
async function holding<T>(lock: IdempotencyLock, work: () => Promise<T>): Promise<T> {
  const heartbeat = setInterval(() => {
    lock.acquire().then(
      (held) => {
        if (!held) logFor("generation").warn({ holder: lock.holder }, "idempotency lock lost while working");
      },
      (error: unknown) => logFor("generation").warn({ err: error }, "idempotency lock renewal failed"),
    );
  }, LOCK_HEARTBEAT_MS);
  try {
    return await work();
  } finally {
    clearInterval(heartbeat);
  }
}

interface Stored<T> {
  fingerprint: string;
  result: T;
}

export interface IdempotencyOptions {
  /** Whose key it is (a user, or a guest's address): keys never cross callers. */
  scope: string;
  key: string;
  fingerprint: string;
  /** The work's own deadline (queue + model); a retry waits that long plus a margin for the holder. */
  waitMs: number;
}

/**
 * Runs `work` once per (caller, key): the result is stored (24 h) before the lock is released
 * and returned to every retry with the same request; the same key with another request is
 * refused (400). A retry that arrives while the work runs waits for it. Failures are not
 * stored, so a retry after a failure runs again (the failure was refunded).
 */
export async function withIdempotency<T>(options: IdempotencyOptions, work: () => Promise<T>): Promise<T> {
  const kv = getKv();
  const resultKey = `idem:${sha256(options.scope, options.key)}`;
  const lockKey = `${resultKey}:lock`;
  const lock = idempotencyLock(lockKey, `${options.fingerprint}.${randomUUID()}`);
  const readResult = async (): Promise<T | undefined> => {
    const raw = await kv.cacheGet(resultKey);
    if (raw === null) return undefined;
    const stored = JSON.parse(raw) as Stored<T>;
    if (stored.fingerprint !== options.fingerprint) throw differentRequest();
    return stored.result;
  };

  const until = Date.now() + options.waitMs + WAIT_MARGIN_MS;
  let holderChecked = false;
  while (!(await lock.acquire())) {
    const done = await readResult();
    if (done !== undefined) return done;
    if (!holderChecked) {
      // The holder's token starts with its request's fingerprint: another request is refused at once.
      holderChecked = true;
      const holders = await kv.leaseList(lockKey);
      if (holders.some((h) => !h.holder.startsWith(`${options.fingerprint}.`))) throw differentRequest();
    }
    if (Date.now() >= until) {
      throw new AppError("busy", "A request with this Idempotency-Key is still being processed.", { retryAfterSeconds: 2 });
    }
    await sleep(POLL_MS);
  }
  try {
    const done = await readResult();
    if (done !== undefined) return done;
    const result = await holding(lock, work);
    const stored: Stored<T> = { fingerprint: options.fingerprint, result };
    await kv.cacheSet(resultKey, JSON.stringify(stored), RESULT_TTL_SECONDS).catch((error: unknown) => {
      // The answer stands; a retry finds the user's row and charge instead (see charge.ts).
      logFor("generation").error({ err: error }, "idempotent result not stored");
    });
    return result;
  } finally {
    await lock.release().catch((error: unknown) => logFor("generation").warn({ err: error }, "idempotency lock release failed"));
  }
}
