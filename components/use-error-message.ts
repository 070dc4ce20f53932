"use client";

import { useTranslations } from "next-intl";

export interface UiError {
  code: string;
  retryAfterSeconds?: number;
}

/**
 * The localized message for an API error envelope's code (messages/<locale>/errors.json), with
 * the wait in seconds for `rate_limited` and `busy` (a live countdown when the caller keeps
 * one). Unknown codes read as `internal`. Screens handle their own special cases first.
 */
export function useErrorMessage(): (error: UiError, countdown?: number) => string {
  const te = useTranslations("errors");
  return (error, countdown = 0) => {
    if (error.code === "rate_limited" || error.code === "busy") {
      return te(error.code, { seconds: countdown > 0 ? countdown : Math.ceil(error.retryAfterSeconds ?? 1) });
    }
    return te.has(error.code) ? te(error.code as "internal") : te("internal");
  };
}
