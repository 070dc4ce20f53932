/** The model's structured output: its schema, and normalization to the platform's rules. */
import { z } from "zod";
import type { PlatformRules } from "./prompts";
import { UpstreamError } from "./types";

export const captionOutputSchema = z.object({
  caption: z.string(),
  hashtags: z.array(z.string()),
  detectedObject: z.string().nullish(),
});

export type CaptionOutput = z.infer<typeof captionOutputSchema>;

/**
 * The same shape as a JSON schema for `response_format` in strict mode, which requires every
 * property to be listed in `required` (optional ones are nullable instead) and no extra properties.
 */
export const captionJsonSchema = {
  type: "object",
  properties: {
    caption: { type: "string" },
    hashtags: { type: "array", items: { type: "string" } },
    detectedObject: { type: ["string", "null"] },
  },
  required: ["caption", "hashtags", "detectedObject"],
  additionalProperties: false,
} as const;

export const captionResponseFormat = {
  type: "json_schema",
  json_schema: { name: "caption", strict: true, schema: captionJsonSchema },
} as const;

/** Including the leading "#". Longer tags are dropped: a truncated hashtag is a different, useless tag. */
export const MAX_HASHTAG_CHARS = 40;
const MAX_DETECTED_OBJECT_CHARS = 60;
/** A word-boundary cut may drop at most this share of the allowed length; otherwise cut mid-word. */
const MIN_WORD_CUT_SHARE = 0.6;
const ELLIPSIS = "…";

const graphemeSegmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });
// ICU word segmentation also finds word boundaries in Chinese, which has no spaces.
const wordSegmenter = new Intl.Segmenter(undefined, { granularity: "word" });

const graphemes = (text: string): string[] => Array.from(graphemeSegmenter.segment(text), (s) => s.segment);

/** Length in user-perceived characters, so an emoji or a CJK character counts as one. */
export const charCount = (text: string): number => graphemes(text).length;

/**
 * Bounds `text` to `max` characters, ellipsis included: cut at the last word boundary that fits
 * (trailing spaces and punctuation dropped), or mid-word when the text has no usable boundary.
 */
export function truncateText(text: string, max: number): string {
  const chars = graphemes(text);
  if (chars.length <= max) return text;
  const budget = max - ELLIPSIS.length;

  let cutIndex = 0;
  let cutChars = 0;
  for (const { segment } of wordSegmenter.segment(text)) {
    const n = charCount(segment);
    if (cutChars + n > budget) break;
    cutChars += n;
    cutIndex += segment.length;
  }
  const atWord = text.slice(0, cutIndex).replace(/[\s\p{P}]+$/u, "");
  const head =
    atWord !== "" && charCount(atWord) >= budget * MIN_WORD_CUT_SHARE
      ? atWord
      : chars.slice(0, budget).join("").trimEnd();
  return head + ELLIPSIS;
}

/**
 * One raw entry may hold several tags ("#beach #sunset") or a phrase ("summer vibes"): split on
 * "#", then keep letters, digits, combining marks and "_" only (so spaces, punctuation and emoji go).
 */
function hashtagsFrom(raw: string): string[] {
  return raw.split("#").flatMap((piece) => {
    const body = piece.normalize("NFKC").replace(/[^\p{L}\p{N}\p{M}_]/gu, "");
    return body === "" || charCount(body) + 1 > MAX_HASHTAG_CHARS ? [] : [`#${body}`];
  });
}

/** Normalized tags, deduplicated case-insensitively (first spelling wins), at most `max`. */
export function normalizeHashtags(raw: readonly string[], max: number): string[] {
  const seen = new Set<string>();
  const tags: string[] = [];
  for (const tag of raw.flatMap(hashtagsFrom)) {
    const key = tag.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    tags.push(tag);
    if (tags.length === max) break;
  }
  return tags;
}

export interface NormalizedOutput {
  caption: string;
  hashtags: string[];
  detectedObject?: string;
}

/**
 * Validates the model's parsed JSON and bounds it to the platform: caption trimmed and truncated,
 * hashtags normalized and clamped to the platform maximum (fewer than the minimum is accepted).
 * Throws `UpstreamError("invalid_output")` when the shape is wrong or the caption is empty.
 */
export function normalizeOutput(raw: unknown, rules: PlatformRules): NormalizedOutput {
  const parsed = captionOutputSchema.safeParse(raw);
  if (!parsed.success) {
    throw new UpstreamError("invalid_output", "model output does not match the caption schema", {
      cause: parsed.error,
    });
  }
  const caption = parsed.data.caption.trim();
  if (caption === "") throw new UpstreamError("invalid_output", "model returned an empty caption");

  const detectedObject = parsed.data.detectedObject?.trim();
  return {
    caption: truncateText(caption, rules.maxCaptionChars),
    hashtags: normalizeHashtags(parsed.data.hashtags, rules.hashtagCount[1]),
    ...(detectedObject ? { detectedObject: truncateText(detectedObject, MAX_DETECTED_OBJECT_CHARS) } : {}),
  };
}
