"use client";

import type { Ref } from "react";
import { MAX_EMAIL_CHARS } from "@/lib/util/field-limits";

interface Props {
  ref: Ref<HTMLInputElement>;
  id: string;
  value: string;
  onChange: (value: string) => void;
  invalid: boolean;
  describedBy?: string;
}

/** An email address field: the email keyboard and autofill, no spellcheck, the server's length bound. */
export function EmailInput({ ref, id, value, onChange, invalid, describedBy }: Props) {
  return (
    <input
      ref={ref}
      id={id}
      type="email"
      name="email"
      autoComplete="email"
      inputMode="email"
      spellCheck={false}
      required
      maxLength={MAX_EMAIL_CHARS}
      placeholder="you@example.com"
      value={value}
      onChange={(e) => onChange(e.target.value)}
      aria-invalid={invalid}
      aria-describedby={describedBy}
    />
  );
}
