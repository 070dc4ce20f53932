"use client";

import { useEffect } from "react";
import { useRouter } from "@/i18n/navigation";

/** Re-renders the current server page every `ms` (the alerts page: evaluated on each render). */
export function AutoRefresh({ ms }: { ms: number }) {
  const router = useRouter();
  useEffect(() => {
    const timer = setInterval(() => router.refresh(), ms);
    return () => clearInterval(timer);
  }, [router, ms]);
  return null;
}
