import { createHash } from "node:crypto";

export const INFLIGHT_KEY = "gen:inflight";
export const BREAKER_KEY = "breaker:openai";
export const BREAKER_PROBE_KEY = "breaker:openai:probe";

/**
 * The cache's hit and miss counters for one UTC day (the console's hit rate), bumped by the
 * admission script in the round trip it makes anyway, so every instance counts into the same
 * numbers at no extra cost. Not under `gen:`, so a cache flush keeps them.
 */
export function cacheStatsKeys(day: string): { hitsKey: string; missesKey: string } {
  return { hitsKey: `stats:cache:${day}:hits`, missesKey: `stats:cache:${day}:misses` };
}

/** How long a day's cache counters are kept (the console shows the last 7 days). */
export const CACHE_STATS_KEEP_MS = 8 * 86_400_000;

export function sha256(...parts: (string | Uint8Array)[]): string {
  const hash = createHash("sha256");
  for (const part of parts) {
    hash.update(part);
    hash.update("\u0000");
  }
  return hash.digest("hex");
}

/** `gen:` + a hash of everything that shapes the answer, so a prompt or model change never serves stale captions. */
export function cacheKey(parts: {
  mode: string;
  lang: string;
  platform?: string;
  model: string;
  promptVersion: string;
  /** The caption studio's controls, serialized in a fixed order. */
  controls: string;
  text: string;
  imageHash?: string;
}): string {
  return `gen:${sha256(parts.mode, parts.lang, parts.platform ?? "", parts.model, parts.promptVersion, parts.controls, parts.text, parts.imageHash ?? "")}`;
}
