import { createHash } from "node:crypto";

export const INFLIGHT_KEY = "gen:inflight";
export const BREAKER_KEY = "breaker:openai";
export const BREAKER_PROBE_KEY = "breaker:openai:probe";

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
  text: string;
  imageHash?: string;
}): string {
  return `gen:${sha256(parts.mode, parts.lang, parts.platform ?? "", parts.model, parts.promptVersion, parts.text, parts.imageHash ?? "")}`;
}
