/**
 * The platform rules: one dated table of data. Normalization (lib/ai/output.ts), the `checks`
 * on every variant, the prompt and the offline provider all read their numbers from here and
 * nowhere else: when a platform changes a limit, change it here (and the date).
 *
 * Counts are in user-perceived characters (graphemes): an emoji or a CJK character is one.
 * Imported by client components: keep it free of server-only imports.
 */
import type { Lang, Length, Platform } from "./types";

/** When the limits below were last checked against the platforms' own documentation. */
export const PLATFORM_RULES_AS_OF = "2026-11-01";

export interface PlatformRule {
  /** Shown in checks and prompts. */
  label: string;
  /** Hard limit on the caption (the body, where the platform has a separate title). */
  maxChars: number;
  /** The hashtags count against `maxChars` (X): caption + a space + the tags joined by spaces. */
  hashtagsInLength: boolean;
  /** Inclusive: fewer than `min` is a warning, more than `max` are dropped. */
  hashtags: { min: number; max: number };
  /** The hook (the first sentence) must end within this many characters (shown before "more"). */
  hookWithin?: number;
  /** The first line is a title of at most this many characters, separate from the body. */
  titleMaxChars?: number;
  /** The length used when the request names none. */
  defaultLength: Length;
  /**
   * The target band [min, max] of each length, in characters of English text (hashtags and
   * title not counted). Chinese carries about twice the meaning per character: its bands are
   * the same numbers times ZH_BAND_FACTOR. Outside the band is a `warn`, never a cut.
   */
  bands: Record<Length, readonly [min: number, max: number]>;
}

export const ZH_BAND_FACTOR = 0.5;

export const PLATFORM_RULES: Readonly<Record<Platform, PlatformRule>> = {
  instagram: {
    label: "Instagram",
    maxChars: 2200,
    hashtagsInLength: false,
    hashtags: { min: 1, max: 5 },
    hookWithin: 125,
    defaultLength: "medium",
    bands: { short: [40, 150], medium: [150, 450], long: [450, 1200] },
  },
  tiktok: {
    label: "TikTok",
    maxChars: 4000,
    hashtagsInLength: false,
    hashtags: { min: 3, max: 5 },
    defaultLength: "short",
    bands: { short: [30, 150], medium: [150, 400], long: [400, 1000] },
  },
  x: {
    label: "X",
    maxChars: 280,
    hashtagsInLength: true,
    hashtags: { min: 0, max: 2 },
    defaultLength: "short",
    bands: { short: [30, 100], medium: [100, 180], long: [180, 240] },
  },
  linkedin: {
    label: "LinkedIn",
    maxChars: 3000,
    hashtagsInLength: false,
    hashtags: { min: 3, max: 5 },
    defaultLength: "medium",
    bands: { short: [80, 300], medium: [300, 800], long: [800, 1500] },
  },
  xiaohongshu: {
    label: "Xiaohongshu",
    maxChars: 1000,
    hashtagsInLength: false,
    hashtags: { min: 3, max: 10 },
    titleMaxChars: 20,
    defaultLength: "medium",
    bands: { short: [60, 250], medium: [250, 600], long: [600, 1000] },
  },
  threads: {
    label: "Threads",
    maxChars: 500,
    hashtagsInLength: false,
    hashtags: { min: 1, max: 1 },
    defaultLength: "short",
    bands: { short: [30, 150], medium: [150, 300], long: [300, 480] },
  },
};

/** No platform named: a caption that works anywhere. */
export const GENERAL_RULE: PlatformRule = {
  label: "General",
  maxChars: 600,
  hashtagsInLength: false,
  hashtags: { min: 3, max: 6 },
  defaultLength: "medium",
  bands: { short: [30, 120], medium: [120, 300], long: [300, 600] },
};

export function ruleFor(platform?: Platform): PlatformRule {
  return platform === undefined ? GENERAL_RULE : PLATFORM_RULES[platform];
}

/** The length band for a language, rounded to whole characters. */
export function bandFor(rule: PlatformRule, length: Length, lang: Lang): readonly [number, number] {
  const [min, max] = rule.bands[length];
  const factor = lang === "zh" ? ZH_BAND_FACTOR : 1;
  return [Math.round(min * factor), Math.round(max * factor)];
}

/** How many emoji each level means: [min, max] inclusive (max Infinity: no cap). */
export const EMOJI_RANGE = { none: [0, 0], few: [1, 3], many: [4, Number.POSITIVE_INFINITY] } as const;
