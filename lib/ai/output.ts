/**
 * The model's structured output: its schema, and normalization of each variant to the platform
 * rules (lib/ai/platform-rules.ts) with the `checks` that say which rules the result keeps.
 * Shared by both providers, so the offline demo is held to exactly the same rules.
 */
import { z } from "zod";
import { EMOJI_RANGE, bandFor, type PlatformRule } from "./platform-rules";
import {
  HOOKS,
  UpstreamError,
  type CaptionCheck,
  type CaptionControls,
  type CaptionVariant,
  type CheckRule,
  type Hook,
  type Lang,
} from "./types";

export const variantOutputSchema = z.object({
  hook: z.string(),
  caption: z.string(),
  hashtags: z.array(z.string()),
  /** The call-to-action sentence the caption contains, or null when none was asked for. */
  cta: z.string().nullish(),
});
export type VariantOutput = z.infer<typeof variantOutputSchema>;

export const captionOutputSchema = z.object({
  variants: z.array(variantOutputSchema).min(1),
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
    variants: {
      type: "array",
      items: {
        type: "object",
        properties: {
          hook: { type: "string", enum: [...HOOKS] },
          caption: { type: "string" },
          hashtags: { type: "array", items: { type: "string" } },
          cta: { type: ["string", "null"] },
        },
        required: ["hook", "caption", "hashtags", "cta"],
        additionalProperties: false,
      },
    },
    detectedObject: { type: ["string", "null"] },
  },
  required: ["variants", "detectedObject"],
  additionalProperties: false,
} as const;

export const captionResponseFormat = {
  type: "json_schema",
  json_schema: { name: "captions", strict: true, schema: captionJsonSchema },
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

/**
 * Text in which every code point is a whole grapheme: ASCII (no "\r", which pairs with "\n"),
 * Latin-1 and Latin Extended letters, general and CJK punctuation, CJK ideographs, full-width
 * forms, and single-code-point emoji (no skin tone, variation selector or joiner follows them).
 * Segmenting is slow (microseconds per character), and most captions are exactly this.
 */
const ONE_CODE_POINT_GRAPHEMES =
  /^(?:[\t\n\x20-\x7E\u00A0-\u02FF\u2010-\u2027\u2030-\u205E\u3001-\u3029\u3030-\u303F\u4E00-\u9FFF\uFF01-\uFF5E]|(?![\u{1F3FB}-\u{1F3FF}])\p{Extended_Pictographic})*$/u;

const graphemes = (text: string): string[] =>
  ONE_CODE_POINT_GRAPHEMES.test(text) ? Array.from(text) : Array.from(graphemeSegmenter.segment(text), (s) => s.segment);

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

/** A sentence's end: its punctuation, maybe a closing quote, maybe emoji after it. */
const SENTENCE_END = /[.!?。！？…]["'”’)]*(?:\s*(?:\p{Extended_Pictographic}|\p{Regional_Indicator})[\uFE0F\u200D\p{Extended_Pictographic}]*)*$/u;
const EMOJI = /\p{Extended_Pictographic}|\p{Regional_Indicator}/u;

/** Graphemes that are emoji (a ZWJ family, a flag or a keycap counts once). */
export const emojiCount = (text: string): number => graphemes(text).filter((g) => EMOJI.test(g)).length;

/** Keeps the first `keep` emoji and removes the rest, tidying the spaces they leave. */
export function limitEmoji(text: string, keep: number): string {
  let seen = 0;
  const kept = graphemes(text)
    .filter((g) => !EMOJI.test(g) || ++seen <= keep)
    .join("");
  return seen <= keep ? text : kept.replace(/[ \t]{2,}/g, " ").replace(/[ \t]+([.,!?。，！？\n])/gu, "$1").replace(/[ \t]+$/gm, "").trim();
}

/**
 * Bounds `text` to `max` characters at the last whole sentence that fits, when that keeps at
 * least half of the allowance; otherwise at a word boundary with an ellipsis (truncateText).
 */
export function truncateSentences(text: string, max: number): string {
  if (charCount(text) <= max) return text;
  const sentences = text.match(/[^.!?。！？…\n]*(?:[.!?。！？…]+["'”’)]*|\n+|$)/gu) ?? [];
  let head = "";
  for (const sentence of sentences) {
    if (charCount(head + sentence) > max) break;
    head += sentence;
  }
  head = head.trimEnd();
  return head !== "" && SENTENCE_END.test(head) && charCount(head) >= max / 2 ? head : truncateText(text, max);
}

/**
 * The hook: the caption's first sentence (or first line, whichever ends first). A Latin sentence
 * ends at punctuation followed by a space; a Chinese one at its full-width punctuation, which is
 * followed by the next sentence with no space.
 */
export function hookOf(caption: string): string {
  const line = caption.trim().split("\n", 1)[0] ?? "";
  const match = /^.*?(?:[。！？]+["'”’」』)）]*|[.!?…]+["'”’)]*(?=\s|$))/u.exec(line);
  return (match?.[0] ?? line).trim();
}

/** Hashtags written at the very end of the caption (a trailing run of "#tag" words), moved out. */
function splitTrailingTags(caption: string): { caption: string; tags: string[] } {
  const match = /(?:\s*#[\p{L}\p{N}\p{M}_]+)+\s*$/u.exec(caption);
  if (!match || match.index === 0) return { caption, tags: [] };
  return { caption: caption.slice(0, match.index).trimEnd(), tags: match[0].trim().split(/\s+/) };
}

/** Loose text for "does the caption contain it": lowercase, no emoji, spaces or "#". */
const loose = (text: string): string =>
  limitEmoji(text, 0)
    .toLowerCase()
    .replace(/[\s#]+/g, "");

/** Lone UTF-16 surrogates (a model or a proxy cut a character in half) become U+FFFD: JSON and the database refuse them. */
const wellFormed = (text: string): string => text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");

export interface RuleContext {
  rule: PlatformRule;
  lang: Lang;
  controls: CaptionControls;
}

type Say = (en: string, zh: string) => string;

/**
 * Normalizes one variant to the rules, then checks it. Throws `UpstreamError("invalid_output")`
 * when the caption is empty. An unknown hook label becomes `fallbackHook`.
 */
export function normalizeVariant(raw: VariantOutput, ctx: RuleContext, fallbackHook: Hook): CaptionVariant {
  const { rule, lang, controls } = ctx;
  const say: Say = (en, zh) => (lang === "zh" ? zh : en);
  const moved = splitTrailingTags(wellFormed(raw.caption).trim().replace(/\r\n?/g, "\n").replace(/\n{3,}/g, "\n\n"));
  let caption = limitEmoji(moved.caption, EMOJI_RANGE[controls.emoji][1]);
  if (caption === "") throw new UpstreamError("invalid_output", "model returned an empty caption");
  const hashtags = normalizeHashtags([...raw.hashtags.map(wellFormed), ...moved.tags], rule.hashtags.max);

  // The title (Xiaohongshu): the first line, bounded on its own; the body is the rest.
  let title: string | undefined;
  let titleCut = false;
  let body = caption;
  if (rule.titleMaxChars !== undefined) {
    const [first = "", ...rest] = caption.split("\n");
    if (rest.join("\n").trim() !== "") {
      title = first.trim();
      body = rest.join("\n").trim();
      if (charCount(title) > rule.titleMaxChars) {
        title = truncateText(title, rule.titleMaxChars);
        titleCut = true;
      }
    }
  }
  const budget = rule.maxChars - (rule.hashtagsInLength && hashtags.length > 0 ? 1 + charCount(hashtags.join(" ")) : 0);
  const bounded = truncateSentences(body, budget);
  const cut = bounded !== body;
  caption = title === undefined ? bounded : `${title}\n${bounded}`;

  const checks: CaptionCheck[] = [];
  const check = (name: CheckRule, pass: boolean, message: string) => checks.push({ rule: name, status: pass ? "pass" : "warn", message });

  const used = charCount(bounded) + (rule.hashtagsInLength && hashtags.length > 0 ? 1 + charCount(hashtags.join(" ")) : 0);
  const lengthWhat = rule.hashtagsInLength ? say("with hashtags", "含话题标签") : "";
  check(
    "length",
    !cut,
    cut
      ? say(`Shortened to fit ${rule.label}'s ${rule.maxChars} characters.`, `已缩短以符合${rule.label}的 ${rule.maxChars} 字上限。`)
      : say(`${used} of ${rule.maxChars} characters${lengthWhat ? ` ${lengthWhat}` : ""}.`, `${used} / ${rule.maxChars} 字${lengthWhat ? `（${lengthWhat}）` : ""}。`),
  );
  if (rule.titleMaxChars !== undefined) {
    const ok = title !== undefined && !titleCut;
    check(
      "title",
      ok,
      title === undefined
        ? say(`Add a title line of up to ${rule.titleMaxChars} characters.`, `缺少标题行（不超过 ${rule.titleMaxChars} 字）。`)
        : titleCut
          ? say(`Title shortened to ${rule.titleMaxChars} characters.`, `标题已缩短到 ${rule.titleMaxChars} 字。`)
          : say(`Title within ${rule.titleMaxChars} characters.`, `标题不超过 ${rule.titleMaxChars} 字。`),
    );
  }
  if (rule.hookWithin !== undefined) {
    const hookChars = charCount(hookOf(caption));
    check(
      "hook",
      hookChars <= rule.hookWithin,
      hookChars <= rule.hookWithin
        ? say(`Hook shows before "more" (${hookChars} of ${rule.hookWithin}).`, `开头一句在“更多”之前可见（${hookChars} / ${rule.hookWithin}）。`)
        : say(`Hook runs past the first ${rule.hookWithin} characters, where "more" cuts it.`, `开头一句超过 ${rule.hookWithin} 字，会被“更多”折叠。`),
    );
  }
  const { min, max } = rule.hashtags;
  const tagsOk = hashtags.length >= min && hashtags.length <= max;
  const range = min === max ? `${max}` : `${min}–${max}`;
  check(
    "hashtags",
    tagsOk,
    tagsOk
      ? say(`${hashtags.length} hashtag${hashtags.length === 1 ? "" : "s"} (${rule.label}: ${range}).`, `${hashtags.length} 个话题标签（${rule.label}：${range}）。`)
      : say(`${hashtags.length} hashtag${hashtags.length === 1 ? "" : "s"}; ${rule.label} works best with ${range}.`, `${hashtags.length} 个话题标签；${rule.label} 建议 ${range} 个。`),
  );
  const [bandMin, bandMax] = bandFor(rule, controls.length, lang);
  const bodyChars = charCount(bounded);
  const lengthName = say(controls.length, { short: "短", medium: "中等", long: "长" }[controls.length]);
  check(
    "band",
    bodyChars >= bandMin && bodyChars <= bandMax,
    bodyChars < bandMin
      ? say(`Shorter than a ${lengthName} caption (${bandMin}–${bandMax}).`, `比${lengthName}文案短（${bandMin}–${bandMax} 字）。`)
      : bodyChars > bandMax
        ? say(`Longer than a ${lengthName} caption (${bandMin}–${bandMax}).`, `比${lengthName}文案长（${bandMin}–${bandMax} 字）。`)
        : say(`A ${lengthName} caption (${bandMin}–${bandMax}).`, `${lengthName}文案（${bandMin}–${bandMax} 字）。`),
  );
  const emoji = emojiCount(caption);
  const [emojiMin, emojiMax] = EMOJI_RANGE[controls.emoji];
  const emojiOk = emoji >= emojiMin && emoji <= emojiMax;
  check(
    "emoji",
    emojiOk,
    controls.emoji === "none"
      ? say("No emoji.", "无表情符号。")
      : emojiOk
        ? say(`${emoji} emoji.`, `${emoji} 个表情符号。`)
        : say(`${emoji} emoji; "${controls.emoji}" means ${emojiMin}${Number.isFinite(emojiMax) ? `–${emojiMax}` : " or more"}.`, `${emoji} 个表情符号；“${controls.emoji}”要求 ${emojiMin}${Number.isFinite(emojiMax) ? `–${emojiMax}` : " 个以上"}。`),
  );
  if (controls.keywords.length > 0) {
    // In the text itself: a keyword only in the hashtags does not read as woven in.
    const haystack = loose(caption);
    const missing = controls.keywords.filter((k) => !haystack.includes(loose(k)));
    check(
      "keywords",
      missing.length === 0,
      missing.length === 0
        ? say("Every keyword is in.", "关键词都已包含。")
        : say(`Missing keyword${missing.length === 1 ? "" : "s"}: ${missing.join(", ")}.`, `缺少关键词：${missing.join("、")}。`),
    );
  }
  if (controls.cta) {
    const cta = raw.cta?.trim() ?? "";
    const ok = cta !== "" && loose(caption).includes(loose(cta));
    check("cta", ok, ok ? say("Ends with a call to action.", "包含行动号召。") : say("No call to action.", "缺少行动号召。"));
  }

  const hook = (HOOKS as readonly string[]).includes(raw.hook) ? (raw.hook as Hook) : fallbackHook;
  return { caption, hashtags, hook, checks };
}

/**
 * Validates the model's parsed JSON and normalizes it: at most `controls.variants` variants,
 * each bounded to the rules and checked; repeats (of each other, or of `avoid`: what the user
 * has already seen) are dropped. Throws `UpstreamError("invalid_output")` when the shape is
 * wrong or nothing new is left (retryable: another sample usually differs).
 */
export function normalizeOutput(
  raw: unknown,
  ctx: RuleContext & { avoid?: readonly string[] },
): { variants: CaptionVariant[]; detectedObject?: string } {
  const parsed = captionOutputSchema.safeParse(raw);
  if (!parsed.success) {
    throw new UpstreamError("invalid_output", "model output does not match the caption schema", { cause: parsed.error });
  }
  const seen = new Set((ctx.avoid ?? []).map(loose));
  const variants: CaptionVariant[] = [];
  for (const item of parsed.data.variants) {
    if (variants.length === ctx.controls.variants) break;
    const usedHooks = new Set(variants.map((v) => v.hook));
    const variant = normalizeVariant(item, ctx, HOOKS.find((h) => !usedHooks.has(h)) ?? HOOKS[0]);
    const key = loose(variant.caption);
    if (seen.has(key)) continue;
    seen.add(key);
    variants.push(variant);
  }
  if (variants.length === 0) throw new UpstreamError("invalid_output", "model repeated captions the user has already seen");
  const detectedObject = parsed.data.detectedObject?.trim();
  return { variants, ...(detectedObject ? { detectedObject: truncateText(detectedObject, MAX_DETECTED_OBJECT_CHARS) } : {}) };
}
