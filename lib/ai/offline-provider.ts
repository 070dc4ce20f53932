/**
 * The offline demo provider, used when no OpenAI key is configured: template captions built from
 * the user's own words. Deterministic (same request → same caption) so demo output caches and
 * tests like real output. Responses carry `provider: "offline"` so the UI labels them as demo.
 */
import { normalizeOutput } from "./output";
import { platformRules } from "./prompts";
import { UpstreamError, type CaptionProvider, type CaptionRequest, type Lang, type Mode } from "./types";

export const OFFLINE_MODEL = "offline-demo-v1";

/** The longest piece of the user's text quoted in a template, so every template fits every platform. */
const MAX_TOPIC_CHARS = 60;
const MAX_KEYWORD_TAGS = 4;

/** `{t}` is replaced by the topic (a snippet of the user's text). */
const TEMPLATES: Record<Lang, Record<Mode, readonly string[]>> = {
  en: {
    standard: [
      "Today's highlight: {t}. Simple things, big smiles ✨",
      "Just {t}, and honestly that's the whole vibe.",
      "Saving this one for the memories: {t} 📸",
      "{t}. Good moments deserve to be shared.",
    ],
    savage: [
      "{t}? Bold of you to assume anyone asked 💅",
      "Not me posting {t} like it's a personality trait.",
      "{t}: peak performance, allegedly.",
      "Plot twist: {t} was the main character all along, and it still flopped.",
    ],
    rizz: [
      "Is it {t}, or did the room just get warmer? 😉",
      "{t} and a little charm: dangerous combination.",
      "Forget the view, {t} stole the show… and maybe my heart.",
      "If {t} were a love song, I'd have it on repeat 💘",
    ],
  },
  zh: {
    standard: [
      "今日份小确幸：{t} ✨",
      "记录一下：{t}，简单的快乐最珍贵。",
      "{t}，这一刻值得被记住 📸",
      "分享日常：{t}，心情美美哒。",
    ],
    savage: [
      "{t}？谁给你的自信 💅",
      "把{t}当成人设，也是没谁了。",
      "{t}：主打一个自我感觉良好。",
      "{t}，建议原地重开。",
    ],
    rizz: [
      "{t}很好，但你更好 😉",
      "看到{t}的那一刻，心跳漏了一拍 💘",
      "{t}再甜，也甜不过你。",
      "想和你一起，把{t}变成我们的故事。",
    ],
  },
};

const MODE_TAGS: Record<Lang, Record<Mode, readonly string[]>> = {
  en: { standard: ["#goodvibes", "#dailylife"], savage: ["#savage", "#roast"], rizz: ["#rizz", "#flirty"] },
  zh: { standard: ["#日常", "#生活记录"], savage: ["#毒舌", "#吐槽"], rizz: ["#撩人", "#心动"] },
};

/** Enough generic tags to reach every platform's minimum on their own. */
const FILLER_TAGS: Record<Lang, readonly string[]> = {
  en: ["#instagood", "#photooftheday", "#mood", "#vibes", "#share", "#moments"],
  zh: ["#分享", "#今日份", "#记录", "#氛围感", "#打卡", "#美好"],
};

const STOPWORDS = new Set(
  "a an and are at be but by for from has have i in is it its me my of on or our so that the this to was we with you your".split(
    " ",
  ),
);

const wordSegmenter = new Intl.Segmenter(undefined, { granularity: "word" });

/** 32-bit FNV-1a: a small, stable hash to pick templates (not for security). */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** The text's first line, cut to a word boundary that fits MAX_TOPIC_CHARS (whole text if short). */
function topicOf(text: string): string {
  const firstLine = text.trim().split(/\r?\n/, 1)[0] ?? "";
  let topic = "";
  for (const { segment } of wordSegmenter.segment(firstLine)) {
    if (topic.length + segment.length > MAX_TOPIC_CHARS) break;
    topic += segment;
  }
  return topic.trim().replace(/[\s\p{P}]+$/u, "") || Array.from(firstLine).slice(0, MAX_TOPIC_CHARS).join("");
}

/** Distinct meaningful words of the text, in order: CJK words of 2+ chars, others of 3+ chars. */
function keywordsOf(text: string): string[] {
  const words = new Set<string>();
  for (const { segment, isWordLike } of wordSegmenter.segment(text.normalize("NFKC"))) {
    const word = segment.toLowerCase();
    const minLength = /\p{Script=Han}/u.test(word) ? 2 : 3;
    if (isWordLike && word.length >= minLength && !STOPWORDS.has(word) && !/^\d+$/.test(word)) words.add(word);
  }
  return [...words];
}

export function createOfflineProvider(): CaptionProvider {
  return {
    name: "offline",
    modelFor: () => OFFLINE_MODEL,
    async generate(req: CaptionRequest, opts) {
      if (opts.signal?.aborted) throw new UpstreamError("timeout", "generation aborted");
      const rules = platformRules(req.platform);
      const hash = fnv1a(`${req.mode}\u0000${req.lang}\u0000${req.platform ?? ""}\u0000${req.text}`);

      const templates = TEMPLATES[req.lang][req.mode];
      const template = templates[hash % templates.length] ?? "{t}";
      const topic = topicOf(req.text);
      // A template may open with the topic: capitalize it there, as a sentence start.
      const caption = template.startsWith("{t}")
        ? template.replace("{t}", topic.charAt(0).toUpperCase() + topic.slice(1))
        : template.replace("{t}", topic);

      // Aim for a hash-chosen count within the platform's range; normalizeOutput clamps to the max.
      const [minTags, maxTags] = rules.hashtagCount;
      const wanted = minTags + ((hash >>> 8) % (maxTags - minTags + 1));
      // Keywords first, but leave room for at least one mode tag when the count allows.
      const keywordTags = Math.min(MAX_KEYWORD_TAGS, Math.max(1, wanted - 1));
      const candidates = [
        ...keywordsOf(req.text).slice(0, keywordTags).map((word) => `#${word}`),
        ...MODE_TAGS[req.lang][req.mode],
        ...FILLER_TAGS[req.lang],
      ];
      const output = normalizeOutput({ caption, hashtags: candidates }, { ...rules, hashtagCount: [minTags, wanted] });
      return { ...output, provider: "offline", model: OFFLINE_MODEL };
    },
  };
}
