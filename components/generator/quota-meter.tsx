"use client";

import { useLocale, useTranslations } from "next-intl";
import { useSyncExternalStore } from "react";
import type { QuotaView } from "@/lib/ui/generate-client";

export type { QuotaView };

/** A clock that ticks once a minute; null on the server (its clock is not the reader's). */
const subscribeMinute = (onChange: () => void) => {
  const timer = setInterval(onChange, 30_000);
  return () => clearInterval(timer);
};
const minuteNow = () => Math.floor(Date.now() / 60_000) * 60_000;
const noClock = () => null;

/** "5h" / "5小时": the time until the quota resets, in the page's language. */
export function useResetIn(resetAt: string): string | null {
  const locale = useLocale();
  const now = useSyncExternalStore(subscribeMinute, minuteNow, noClock);
  if (now === null) return null;
  const ms = Math.max(0, new Date(resetAt).getTime() - now);
  const hours = Math.floor(ms / 3_600_000);
  const unit = hours >= 1 ? "hour" : "minute";
  const value = hours >= 1 ? hours : Math.max(1, Math.ceil(ms / 60_000));
  return new Intl.NumberFormat(locale, { style: "unit", unit, unitDisplay: "narrow" }).format(value);
}

export function QuotaMeter({ quota }: { quota: QuotaView }) {
  const t = useTranslations("generator.quota");
  const resetIn = useResetIn(quota.resetAt);
  const dailyLeft = Math.max(0, quota.limit - quota.used);
  const percent = quota.limit > 0 ? Math.round((dailyLeft / quota.limit) * 100) : 0;
  return (
    <div className="meter" data-testid="quota-meter">
      <span className="sr-only">{t("label")}</span>
      <div
        className="meter-bar"
        role="meter"
        aria-label={t("label")}
        aria-valuemin={0}
        aria-valuemax={quota.limit}
        aria-valuenow={dailyLeft}
      >
        <div className="meter-fill" style={{ width: `${percent}%` }} />
      </div>
      <span className="meter-text" aria-live="polite">
        {t("left", { remaining: dailyLeft, limit: quota.limit })}
        {quota.credits > 0 ? ` · ${t("credits", { credits: quota.credits })}` : ""}
        {resetIn ? ` · ${t("resetsIn", { time: resetIn })}` : ""}
      </span>
    </div>
  );
}
