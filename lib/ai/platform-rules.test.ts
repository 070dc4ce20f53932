import { describe, expect, it } from "vitest";
import { charCount, normalizeOutput } from "./output";
import { EMOJI_RANGE, GENERAL_RULE, PLATFORM_RULES, ZH_BAND_FACTOR, bandFor, ruleFor } from "./platform-rules";
import { LANGS, LENGTHS, PLATFORMS, type CaptionControls, type Lang, type Length, type Platform } from "./types";

const controls = (over: Partial<CaptionControls> = {}): CaptionControls => ({
  variants: 1,
  emoji: "few",
  length: "medium",
  cta: false,
  keywords: [],
  ...over,
});

const SENTENCE: Record<Lang, string> = { en: "Rain on the window, coffee in hand.", zh: "窗外下着雨，手里捧着咖啡。" };
const SEP: Record<Lang, string> = { en: " ", zh: "" };

/** A caption that keeps every rule of `platform` at `length`: sentences to the band's middle. */
function keeping(platform: Platform | undefined, length: Length, lang: Lang) {
  const rule = ruleFor(platform);
  const [min, max] = bandFor(rule, length, lang);
  const hook = lang === "en" ? "Who else loves slow mornings? ✨" : "谁不爱慢悠悠的早晨？✨";
  const cta = lang === "en" ? "Tell me yours below!" : "评论区告诉我吧！";
  const sentences = [hook, "latte.", cta];
  while (charCount(sentences.join(SEP[lang])) < (min + max) / 2) sentences.splice(1, 0, SENTENCE[lang]);
  const body = sentences.join(SEP[lang]);
  const title = lang === "en" ? "Slow mornings" : "慢悠悠的早晨";
  return {
    hook: "question",
    caption: rule.titleMaxChars === undefined ? body : `${title}\n${body}`,
    hashtags: ["#a", "#b", "#c", "#d", "#e", "#f", "#g", "#h", "#i", "#j"].slice(0, Math.max(rule.hashtags.min, Math.min(1, rule.hashtags.max))),
    cta,
  };
}

describe("PLATFORM_RULES", () => {
  it("holds the documented limits (PRODUCT §3a)", () => {
    expect(PLATFORM_RULES.instagram).toMatchObject({ maxChars: 2200, hashtags: { max: 5 }, hookWithin: 125, hashtagsInLength: false });
    expect(PLATFORM_RULES.tiktok).toMatchObject({ maxChars: 4000, hashtags: { min: 3, max: 5 } });
    expect(PLATFORM_RULES.x).toMatchObject({ maxChars: 280, hashtagsInLength: true, hashtags: { max: 2 } });
    expect(PLATFORM_RULES.linkedin).toMatchObject({ maxChars: 3000, hashtags: { min: 3, max: 5 } });
    expect(PLATFORM_RULES.xiaohongshu).toMatchObject({ maxChars: 1000, titleMaxChars: 20, hashtags: { max: 10 } });
    expect(PLATFORM_RULES.threads).toMatchObject({ maxChars: 500, hashtags: { min: 1, max: 1 } });
    expect(ruleFor()).toBe(GENERAL_RULE);
    for (const platform of PLATFORMS) expect(ruleFor(platform)).toBe(PLATFORM_RULES[platform]);
  });

  it("has bands that grow with length and fit the hard limit, in both languages", () => {
    for (const rule of [GENERAL_RULE, ...Object.values(PLATFORM_RULES)]) {
      expect(rule.hashtags.min).toBeLessThanOrEqual(rule.hashtags.max);
      expect(LENGTHS).toContain(rule.defaultLength);
      let [previousMin, previousMax] = [0, 0];
      for (const length of LENGTHS) {
        const [min, max] = rule.bands[length];
        expect(min, `${rule.label} ${length}`).toBeLessThan(max);
        expect(min).toBeGreaterThan(previousMin);
        expect(max).toBeGreaterThan(previousMax);
        previousMin = min;
        // The longest band still leaves room for the most hashtags where they count (X).
        const tagRoom = rule.hashtagsInLength ? rule.hashtags.max * 10 : 0;
        expect(max + tagRoom, `${rule.label} ${length}`).toBeLessThanOrEqual(rule.maxChars);
        previousMax = max;
      }
    }
  });

  it("scales Chinese bands by ZH_BAND_FACTOR, rounded", () => {
    expect(ZH_BAND_FACTOR).toBe(0.5);
    expect(bandFor(PLATFORM_RULES.linkedin, "long", "en")).toEqual([800, 1500]);
    expect(bandFor(PLATFORM_RULES.linkedin, "long", "zh")).toEqual([400, 750]);
    expect(bandFor(PLATFORM_RULES.x, "short", "zh")).toEqual([15, 50]);
    expect(bandFor(GENERAL_RULE, "medium", "zh")).toEqual([60, 150]);
  });

  it("defines the emoji levels", () => {
    expect(EMOJI_RANGE.none).toEqual([0, 0]);
    expect(EMOJI_RANGE.few).toEqual([1, 3]);
    expect(EMOJI_RANGE.many[0]).toBe(4);
    expect(EMOJI_RANGE.many[1]).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("normalization enforces every rule of the table", () => {
  for (const platform of [undefined, ...PLATFORMS]) {
    const rule = ruleFor(platform);
    for (const lang of LANGS) {
      it(`${rule.label} (${lang}): hard limits hold on an output that ignores them all`, () => {
        const sentence = SENTENCE[lang];
        const long = Array.from({ length: Math.ceil((rule.maxChars * 2) / charCount(sentence)) }, () => sentence).join(SEP[lang]);
        const title = "A title that is far too long for any title line";
        const tags = Array.from({ length: 15 }, (_, i) => `#tag${i}`);
        const raw = { hook: "story", caption: `${title}\n${long}`, hashtags: tags, cta: null };
        const [v] = normalizeOutput({ variants: [raw] }, { rule, lang, controls: controls({ emoji: "none" }) }).variants;
        if (!v) throw new Error("no variant");
        const status = Object.fromEntries(v.checks.map((c) => [c.rule, c.status]));

        expect(v.hashtags).toHaveLength(rule.hashtags.max);
        const [first = "", ...rest] = v.caption.split("\n");
        const body = rule.titleMaxChars === undefined ? v.caption : rest.join("\n");
        const tagChars = rule.hashtagsInLength && v.hashtags.length > 0 ? 1 + charCount(v.hashtags.join(" ")) : 0;
        expect(charCount(body) + tagChars).toBeLessThanOrEqual(rule.maxChars);
        expect(status.length).toBe("warn");
        expect(status.band).toBe("warn");
        // Cut at a whole sentence, never mid-phrase.
        expect(body.endsWith(lang === "en" ? "hand." : "。")).toBe(true);
        if (rule.titleMaxChars !== undefined) {
          expect(charCount(first)).toBeLessThanOrEqual(rule.titleMaxChars);
          expect(first.endsWith("…")).toBe(true);
          expect(status.title).toBe("warn");
        } else {
          expect(status.title).toBeUndefined();
        }
        expect(status.hook).toBe(rule.hookWithin === undefined ? undefined : "pass");
      });

      for (const length of LENGTHS) {
        it(`${rule.label} (${lang}, ${length}): an output that keeps the rules passes every check`, () => {
          const raw = keeping(platform, length, lang);
          const ctl = controls({ length, cta: true, keywords: ["latte"] });
          const [v] = normalizeOutput({ variants: [raw] }, { rule, lang, controls: ctl }).variants;
          expect(v?.caption).toBe(raw.caption);
          expect(v?.checks.filter((c) => c.status === "warn")).toEqual([]);
          expect(v?.checks.map((c) => c.rule).sort()).toEqual(
            [
              "length",
              "hashtags",
              "band",
              "emoji",
              "keywords",
              "cta",
              ...(rule.titleMaxChars === undefined ? [] : ["title"]),
              ...(rule.hookWithin === undefined ? [] : ["hook"]),
            ].sort(),
          );
        });
      }
    }
  }
});
