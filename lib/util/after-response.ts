import "server-only";
import { after } from "next/server";

/**
 * Work a response does not wait for, but the process does: every promise handed in here is
 * tracked until it settles.
 *
 * - Inside a request, it is also handed to Next's `after()`: on SIGTERM Next's server stops
 *   accepting, waits for the requests in progress and then for this work, before it exits.
 * - Outside one (integration tests calling handlers, scripts) it is tracked here only;
 *   `afterResponseIdle()` waits for it.
 *
 * Only for work whose loss would cost nothing a user or operator relies on (a cache entry, a
 * lease that expires by itself): what a user must see on any instance is written before the
 * answer. The work must not reject (log inside it); a rejection is swallowed here.
 */
const pending = new Set<Promise<unknown>>();

export function afterResponse(work: Promise<unknown>): void {
  const tracked = work.then(
    () => undefined,
    () => undefined,
  );
  pending.add(tracked);
  void tracked.finally(() => pending.delete(tracked));
  try {
    after(tracked);
  } catch {
    // Outside a request scope: tracked here only.
  }
}

/** How much such work is still running in this process. */
export function afterResponsePending(): number {
  return pending.size;
}

/** Resolves once every piece of such work started so far (and any it started) has settled. */
export async function afterResponseIdle(): Promise<void> {
  while (pending.size > 0) await Promise.all([...pending]);
}
