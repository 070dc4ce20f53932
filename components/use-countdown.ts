"use client";

import { useEffect, useState } from "react";

/**
 * A whole-seconds countdown (Retry-After waits shown on a retry button): `seconds` ticks down to
 * 0 once a second after `start(n)`.
 */
export function useCountdown(): [seconds: number, start: (seconds: number) => void] {
  const [seconds, setSeconds] = useState(0);
  useEffect(() => {
    if (seconds <= 0) return;
    const timer = setTimeout(() => setSeconds((s) => s - 1), 1000);
    return () => clearTimeout(timer);
  }, [seconds]);
  return [seconds, setSeconds];
}
