import "server-only";
import type { Viewer } from "@/lib/auth/viewer";
import { getDb } from "@/lib/db";
import { getEnv, type Env } from "@/lib/env";
import { getKv } from "@/lib/kv";
import { nextUtcMidnightMs, utcDay } from "./day";
import { readUserUsage } from "./user-quota";

export { nextUtcMidnightMs, utcDay } from "./day";

export type QuotaPlan = "guest" | "free" | "pro";

/** The quota as every response shows it. */
export interface QuotaView {
  plan: QuotaPlan;
  /** The plan's daily allowance. */
  limit: number;
  used: number;
  /** Left today, admin-granted credits included. */
  remaining: number;
  /** Admin-granted credits left (they outlast the day). */
  credits: number;
  resetAt: string;
}

export function planOf(viewer: Viewer): QuotaPlan {
  return viewer.kind === "guest" ? "guest" : viewer.plan;
}

export function dailyLimit(plan: QuotaPlan, env: Env = getEnv()): number {
  if (plan === "guest") return env.GUEST_DAILY_LIMIT;
  return plan === "pro" ? env.PRO_DAILY_LIMIT : env.USER_DAILY_LIMIT;
}

/**
 * Guests are counted per trusted client IP per UTC day. Without a known address (the
 * peer-address layer is missing) every guest shares one bucket: the safe failure, not an open door.
 */
export function guestQuotaKey(ip: string | null, day: string): string {
  return `quota:guest:${ip ?? "unknown"}:${day}`;
}

export function quotaView(plan: QuotaPlan, limit: number, used: number, credits: number, nowMs: number): QuotaView {
  return {
    plan,
    limit,
    used,
    remaining: Math.max(0, limit - used) + credits,
    credits,
    resetAt: new Date(nextUtcMidnightMs(nowMs)).toISOString(),
  };
}

/** Reads the viewer's quota without spending anything (GET /api/quota and cache hits). */
export async function readQuota(viewer: Viewer, ip: string | null, nowMs = Date.now()): Promise<QuotaView> {
  const plan = planOf(viewer);
  const limit = dailyLimit(plan);
  const day = utcDay(nowMs);
  if (viewer.kind === "guest") {
    const used = await getKv().counterGet(guestQuotaKey(ip, day));
    return quotaView(plan, limit, used, 0, nowMs);
  }
  const usage = await readUserUsage(await getDb(), viewer.id, day);
  return quotaView(plan, limit, usage.used, usage.credits, nowMs);
}
