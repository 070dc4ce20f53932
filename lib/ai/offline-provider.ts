/**
 * The offline demo provider, used when no OpenAI key is configured: captions composed from whole
 * sentences of a phrase bank (lib/ai/offline-phrases.ts) and the user's own words, then run
 * through the same normalization as model output, so the demo is held to exactly the same
 * platform rules and checks. Deterministic (same request → same captions) so demo output caches
 * and tests like real output; a regenerate (`req.avoid`) picks a different selection.
 * Responses carry `provider: "offline"` so the UI labels them as demo.
 */
import { FILLER_TAGS, MODE_TAGS, PHRASES, TOPIC_FALLBACK, type PhraseBank } from "./offline-phrases";
import { charCount, limitEmoji, normalizeHashtags, normalizeOutput, type VariantOutput } from "./output";
import { EMOJI_RANGE, bandFor, ruleFor, type PlatformRule } from "./platform-rules";
import { HOOKS, UpstreamError, type CaptionProvider, type CaptionRequest, type Hook, type Lang } from "./types";

export const OFFLINE_MODEL = "offline-demo-v2";

/** The longest topic quoted from the user's text (Chinese carries more per character). */
const MAX_TOPIC_CHARS = { han: 16, other: 48 };
/** Words of the user's text offered as hashtags, after their keywords. */
const MAX_TEXT_TAGS = 4;
/**
 * Selections tried per variant before giving up on finding one the user has not seen. The bank
 * holds thousands of combinations even in the tightest band, so this is never reached in practice.
 */
const MAX_ATTEMPTS = 500;

const STOPWORDS = new Set(
  "a an and are at be but by for from has have i in is it its me my of on or our so that the this to was we with you your".split(
    " ",
  ),
);

const wordSegmenter = new Intl.Segmenter(undefined, { granularity: "word" });

/** 32-bit FNV-1a: a small, stable hash to seed the selection (not for security). */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** mulberry32: a tiny deterministic PRNG in [0, 1). */
function randomFrom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(random: () => number, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** The comparison normalizeOutput uses to drop repeats: case, spaces, "#" and emoji ignored. */
const captionKey = (caption: string): string =>
  limitEmoji(caption, 0)
    .toLowerCase()
    .replace(/[\s#]+/g, "");

/**
 * captionKey for a composed caption, without grapheme segmentation (slow, and run on every
 * attempt): its only emoji are the bank's, single code points, so a code-point filter is exact.
 */
const composedKey = (caption: string): string =>
  caption
    .replace(/\p{Extended_Pictographic}/gu, "")
    .toLowerCase()
    .replace(/[\s#]+/g, "");

/**
 * The topic: the user's first line up to its first sentence end, without emoji, tags or quotes,
 * quoted whole in a noun-phrase slot. Too long, it falls back to its first clause (up to a comma
 * or a colon), and then to nothing: a phrase cut mid-way would not read as a whole.
 */
function topicOf(text: string): string | undefined {
  const firstLine = text.trim().split(/\r?\n/, 1)[0] ?? "";
  const sentence = limitEmoji(firstLine, 0)
    .replace(/["“”「」『』#]/g, "")
    .split(/[.!?。！？…]/u, 1)[0];
  const clause = sentence?.split(/[,;:，；：、—–]/u, 1)[0];
  return [sentence, clause]
    .map((t) => t?.replace(/[\s\p{P}]+$/u, "").trim() ?? "")
    .find((t) => t !== "" && charCount(t) <= (/\p{Script=Han}/u.test(t) ? MAX_TOPIC_CHARS.han : MAX_TOPIC_CHARS.other));
}

/** Distinct meaningful words of the text, in order: CJK words of 2+ chars, others of 3+ chars. */
function wordsOf(text: string): string[] {
  const words = new Set<string>();
  for (const { segment, isWordLike } of wordSegmenter.segment(text.normalize("NFKC"))) {
    const word = segment.toLowerCase();
    const minLength = /\p{Script=Han}/u.test(word) ? 2 : 3;
    if (isWordLike && word.length >= minLength && !STOPWORDS.has(word) && !/^\d+$/.test(word)) words.add(word);
  }
  return [...words];
}

function listOf(items: readonly string[], lang: Lang): string {
  if (lang === "zh") return items.join("、");
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

/** The sentences of one caption, in order, and the emoji that follow them. */
interface Plan {
  title?: string;
  hook: string;
  body: string[];
  keywords?: string;
  cta?: string;
  emoji: readonly string[];
}

/** charCount, remembered: composing measures the same sentences many times over. */
const counted = new Map<string, number>();
function count(text: string): number {
  let n = counted.get(text);
  if (n === undefined) {
    n = charCount(text);
    if (counted.size > 5000) counted.clear();
    counted.set(text, n);
  }
  return n;
}

/** The length of `textOf(plan, lang)`, added up from its parts (each emoji is one character). */
function lengthOf(plan: Plan, lang: Lang): number {
  const sentences = [plan.hook, ...plan.body, ...(plan.keywords ? [plan.keywords] : []), ...(plan.cta ? [plan.cta] : [])];
  const letters = sentences.reduce((sum, s) => sum + count(s), 0) + plan.emoji.length;
  if (lang === "zh") return letters;
  const emojiRuns = new Set(plan.emoji.map((_, i) => Math.floor((i * (sentences.length - (plan.cta ? 1 : 0))) / plan.emoji.length))).size;
  return letters + sentences.length - 1 + emojiRuns;
}

/**
 * The caption text without its title. Emoji follow the sentences they are spread over (never
 * the call to action, which must stay the last sentence); English separates with spaces.
 */
function textOf(plan: Plan, lang: Lang): string {
  const sentences = [plan.hook, ...plan.body, ...(plan.keywords ? [plan.keywords] : [])];
  const after: string[] = sentences.map(() => "");
  plan.emoji.forEach((e, i) => {
    const slot = Math.floor((i * sentences.length) / plan.emoji.length);
    after[slot] += e;
  });
  const sep = lang === "zh" ? "" : " ";
  const parts = sentences.map((s, i) => (after[i] ? `${s}${sep}${after[i]}` : s));
  return [...parts, ...(plan.cta ? [plan.cta] : [])].join(sep);
}

interface VariantContext {
  bank: PhraseBank;
  lang: Lang;
  rule: PlatformRule;
  band: readonly [number, number];
  topic?: string;
  keywords: readonly string[];
  cta: boolean;
  emoji: readonly [number, number];
  userTags: readonly string[];
  modeTags: readonly string[];
  fillerTags: readonly string[];
}

function hashtagsFor(ctx: VariantContext, random: () => number): string[] {
  const { min, max } = ctx.rule.hashtags;
  const wanted = Math.min(max, Math.max(min, Math.round((min + max) / 2)));
  // The user's words first, leaving room for a mode tag when the count allows.
  const fromUser = ctx.userTags.slice(0, Math.max(1, wanted - 1));
  const tags = normalizeHashtags([...fromUser, ...shuffled(random, ctx.modeTags), ...shuffled(random, ctx.fillerTags)], wanted);
  // Where tags count against the limit (X), keep the whole band reachable.
  while (ctx.rule.hashtagsInLength && tags.length > min && ctx.rule.maxChars - 1 - charCount(tags.join(" ")) < ctx.band[1]) {
    tags.pop();
  }
  return tags;
}

interface MandatoryChoices {
  title?: string;
  hooks: readonly string[];
  keywordSentences: readonly (string | undefined)[];
  /** Tried in order: calls to action no other variant uses, then any. */
  ctaSets: readonly (readonly (string | undefined)[])[];
  emojiPool: readonly string[];
  emojiWanted: number;
  emojiMin: number;
  cap: number;
  lang: Lang;
  hookWithin?: number;
}

/**
 * The first combination of the sentences every caption needs (hook, keywords, call to action)
 * that fits under `cap`: preferably with a fresh call to action and the emoji count drawn, else
 * with fewer emoji (never below the level's minimum), then with any call to action. When
 * nothing fits (keywords too long for the band), the shortest: the band check will say so.
 */
function mandatoryPlan(c: MandatoryChoices): Plan {
  let shortest: Plan | undefined;
  let shortestChars = Number.POSITIVE_INFINITY;
  for (const ctas of c.ctaSets) {
    for (let emojiUsed = c.emojiWanted; emojiUsed >= c.emojiMin; emojiUsed -= 1) {
      const emoji = c.emojiPool.slice(0, emojiUsed);
      for (const hook of c.hooks) {
        if (c.hookWithin !== undefined && count(hook) > c.hookWithin) continue;
        for (const keywords of c.keywordSentences) {
          for (const cta of ctas) {
            const plan: Plan = { title: c.title, hook, body: [], keywords, cta, emoji };
            const chars = lengthOf(plan, c.lang);
            if (chars <= c.cap) return plan;
            if (chars < shortestChars) [shortest, shortestChars] = [plan, chars];
          }
        }
      }
    }
  }
  return shortest ?? { title: c.title, hook: c.hooks[0] ?? "", body: [], emoji: c.emojiPool.slice(0, c.emojiMin) };
}

/** One variant of the given hook kind: mandatory sentences that fit, then body sentences into the band. */
function composeVariant(ctx: VariantContext, kind: Hook, random: () => number, usedCtas: ReadonlySet<string>): VariantOutput {
  const { bank, lang, rule } = ctx;
  const hashtags = hashtagsFor(ctx, random);
  const tagChars = rule.hashtagsInLength && hashtags.length > 0 ? 1 + charCount(hashtags.join(" ")) : 0;
  const [bandMin, bandMax] = ctx.band;
  const cap = Math.min(bandMax, rule.maxChars - tagChars);

  const [emojiMin, emojiMax] = ctx.emoji;
  const emojiWanted = emojiMax === 0 ? 0 : emojiMin + Math.floor(random() * (Math.min(emojiMax, emojiMin + 2) - emojiMin + 1));
  const emojiPool = shuffled(random, bank.emoji);

  const slots = [...new Set([ctx.topic === undefined ? undefined : `“${ctx.topic}”`, TOPIC_FALLBACK[lang]])].filter(
    (s): s is string => s !== undefined,
  );
  const hooks = shuffled(random, bank.hooks[kind]).flatMap((h) => [...new Set(slots.map((s) => h.replace("{t}", s)))]);
  const keywordSentences =
    ctx.keywords.length === 0 ? [undefined] : shuffled(random, bank.keywords).map((k) => k.replace("{k}", listOf(ctx.keywords, lang)));
  const allCtas = shuffled(random, bank.ctas);
  const freshCtas = allCtas.filter((c) => !usedCtas.has(c));
  const title = rule.titleMaxChars === undefined ? undefined : shuffled(random, bank.titles[kind])[0];

  let plan = mandatoryPlan({
    title,
    hooks,
    keywordSentences,
    ctaSets: ctx.cta ? [freshCtas, allCtas] : [[undefined]],
    emojiPool,
    emojiWanted,
    emojiMin,
    cap,
    lang,
    hookWithin: rule.hookWithin,
  });

  // Whole body sentences until a random point inside the band, never past its top.
  const target = bandMin + (bandMax - bandMin) * (0.05 + 0.2 * random());
  for (const sentence of shuffled(random, bank.body)) {
    if (lengthOf(plan, lang) >= target) break;
    const longer = { ...plan, body: [...plan.body, sentence] };
    if (lengthOf(longer, lang) <= cap) plan = longer;
  }

  const text = textOf(plan, lang);
  return { hook: kind, caption: plan.title === undefined ? text : `${plan.title}\n${text}`, hashtags, cta: plan.cta ?? null };
}

/** Word-sized pieces of the caption (each word with the spaces and punctuation after it). */
function piecesOf(caption: string): string[] {
  const pieces: string[] = [];
  let piece = "";
  for (const { segment, isWordLike } of wordSegmenter.segment(caption)) {
    if (isWordLike && /[\p{L}\p{N}]/u.test(piece)) {
      pieces.push(piece);
      piece = "";
    }
    piece += segment;
  }
  if (piece !== "") pieces.push(piece);
  return pieces;
}

const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new UpstreamError("timeout", "generation aborted");
}

export function createOfflineProvider(): CaptionProvider {
  return {
    name: "offline",
    modelFor: () => OFFLINE_MODEL,
    async generate(req: CaptionRequest, opts) {
      throwIfAborted(opts.signal);
      const { controls, lang, mode } = req;
      const rule = ruleFor(req.platform);
      const avoid = req.avoid ?? [];
      const requestKey = JSON.stringify([req.text, mode, lang, req.platform ?? "", controls]);
      // A regenerate seeds from what the user has seen, so it starts from a different selection.
      const seed = fnv1a(avoid.length === 0 ? requestKey : `${requestKey}\u0000${avoid.join("\u0001")}`);

      const ctx: VariantContext = {
        bank: PHRASES[lang][mode],
        lang,
        rule,
        band: bandFor(rule, controls.length, lang),
        topic: topicOf(req.text),
        // Written as words in the text: no emoji or "#" (the keyword check ignores both).
        keywords: controls.keywords.map((k) => limitEmoji(k, 0).replace(/#/g, "").trim()).filter((k) => k !== ""),
        cta: controls.cta,
        emoji: EMOJI_RANGE[controls.emoji],
        userTags: [...controls.keywords, ...wordsOf(req.text).slice(0, MAX_TEXT_TAGS)],
        modeTags: MODE_TAGS[lang][mode],
        fillerTags: FILLER_TAGS[lang],
      };
      const kindOrder = shuffled(randomFrom(seed), HOOKS);
      const seen = new Set(avoid.map(captionKey));
      const usedCtas = new Set<string>();
      const variants: VariantOutput[] = [];
      for (let i = 0; i < controls.variants; i += 1) {
        const kinds = kindOrder.filter((k) => !variants.some((v) => v.hook === k));
        for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
          const kind = kinds[attempt % kinds.length] as Hook;
          const variant = composeVariant(ctx, kind, randomFrom(fnv1a(`${seed}:${i}:${attempt}`)), usedCtas);
          const key = composedKey(variant.caption);
          if (seen.has(key)) continue;
          seen.add(key);
          if (variant.cta) usedCtas.add(variant.cta);
          variants.push(variant);
          break;
        }
      }
      const output = normalizeOutput({ variants, detectedObject: null }, { rule, lang, controls, avoid });

      if (opts.onDelta) {
        for (const [index, variant] of output.variants.entries()) {
          for (const text of piecesOf(variant.caption)) {
            throwIfAborted(opts.signal);
            opts.onDelta({ variant: index, text });
            await nextTick();
          }
        }
      }
      throwIfAborted(opts.signal);
      return { ...output, provider: "offline", model: OFFLINE_MODEL };
    },
  };
}
