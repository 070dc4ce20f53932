import "server-only";
import { getRecordWriter } from "@/lib/events";
import { logFor } from "@/lib/observability/logger";
import { setAuthFailureHook } from "./viewer";

/**
 * Routes rejected tokens (bad signature, expired, revoked session, deleted account…) to the
 * `auth_failure` security event, written off the request path by the batched record writer,
 * and keeps the warn log line the default hook writes. Safe to call more than once.
 */
export function installAuthSecurityHook(): void {
  setAuthFailureHook((failure) => {
    logFor("auth").warn(failure, "authentication failed");
    getRecordWriter().securityEvent({
      eventType: "auth_failure",
      severity: "warn",
      ip: failure.ip ?? null,
      path: failure.path,
      meta: { reason: failure.reason },
    });
  });
}
