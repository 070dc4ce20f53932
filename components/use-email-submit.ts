"use client";

import { useRef, useState, type RefObject } from "react";
import type { ApiResult } from "@/lib/ui/api-client";
import { LOOKS_LIKE_EMAIL } from "@/lib/ui/email";
import { useCountdown } from "@/components/use-countdown";
import type { UiError } from "@/components/use-error-message";

/** A `Retry-After` longer than this still lets the user try again after two minutes. */
const MAX_WAIT_SECONDS = 120;
/** The wait when a `rate_limited` answer names none. */
const DEFAULT_WAIT_SECONDS = 10;

export interface EmailSubmit {
  email: string;
  setEmail: (email: string) => void;
  busy: boolean;
  error: UiError | null;
  setError: (error: UiError | null) => void;
  /** Seconds before the form may be sent again (after `rate_limited`). */
  countdown: number;
  /** The email input: focus goes back to it when the address does not look like one. */
  emailInput: RefObject<HTMLInputElement | null>;
  /** The error is about the address (shown as the field's error). */
  fieldError: boolean;
  /**
   * Checks `address` (trimmed) and sends it with `post`, one request at a time. Answers the
   * trimmed address with the data on success, null otherwise (the error is then in `error`).
   */
  submit: <T>(address: string, post: (address: string) => Promise<ApiResult<T>>) => Promise<{ address: string; data: T } | null>;
}

/**
 * What the email forms (sign-in link, Pro waitlist) share: a quick client-side check of the
 * address, the envelope's code as the error, and a countdown after `rate_limited`. The server
 * validates the address for real.
 */
export function useEmailSubmit(initialEmail = ""): EmailSubmit {
  const [email, setEmail] = useState(initialEmail);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UiError | null>(null);
  const [countdown, setCountdown] = useCountdown();
  const emailInput = useRef<HTMLInputElement>(null);

  async function submit<T>(raw: string, post: (address: string) => Promise<ApiResult<T>>): Promise<{ address: string; data: T } | null> {
    if (busy || countdown > 0) return null;
    const address = raw.trim();
    if (!LOOKS_LIKE_EMAIL.test(address)) {
      setError({ code: "invalid_email" });
      emailInput.current?.focus();
      return null;
    }
    setBusy(true);
    setError(null);
    const res = await post(address);
    setBusy(false);
    if (res.ok) return { address, data: res.data };
    setError({ code: res.code, retryAfterSeconds: res.retryAfterSeconds });
    if (res.code === "rate_limited") {
      setCountdown(Math.min(MAX_WAIT_SECONDS, Math.ceil(res.retryAfterSeconds ?? DEFAULT_WAIT_SECONDS)));
    }
    return null;
  }

  const fieldError = error?.code === "invalid_email" || error?.code === "invalid_input";
  return { email, setEmail, busy, error, setError, countdown, emailInput, fieldError, submit };
}
