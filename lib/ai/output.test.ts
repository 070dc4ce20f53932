import { describe, expect, it } from "vitest";
import {
  MAX_HASHTAG_CHARS,
  captionJsonSchema,
  captionOutputSchema,
  charCount,
  emojiCount,
  hookOf,
  limitEmoji,
  normalizeHashtags,
  normalizeOutput,
  normalizeVariant,
  truncateSentences,
  truncateText,
  type RuleContext,
  type VariantOutput,
} from "./output";
import { PLATFORM_RULES, ruleFor } from "./platform-rules";
import { HOOKS, UpstreamError, type CaptionControls, type CaptionVariant, type Lang, type Platform } from "./types";

const ctx = (platform: Platform | undefined, over: Partial<CaptionControls> = {}, lang: Lang = "en"): RuleContext => ({
  rule: ruleFor(platform),
  lang,
  controls: { variants: 1, emoji: "few", length: "medium", cta: false, keywords: [], ...over },
});

/** An Instagram caption of the medium band (197 characters), with one emoji and a call to action. */
const GOOD =
  "Who else needed a slow morning like this? ☕ Coffee with friends, rain on the windows and nowhere to be. " +
  "Some days do not need a plan at all, just good company and a warm latte. Tell me yours below!";
const CTA = "Tell me yours below!";

const raw = (over: Partial<VariantOutput> = {}): VariantOutput => ({
  hook: "question",
  caption: GOOD,
  hashtags: ["#coffee", "#rainyday"],
  cta: CTA,
  ...over,
});

const statusOf = (v: CaptionVariant) => Object.fromEntries(v.checks.map((c) => [c.rule, c.status]));
const warns = (v: CaptionVariant) => v.checks.filter((c) => c.status === "warn").map((c) => c.rule);

describe("truncateText", () => {
  it("leaves text within the bound alone", () => {
    expect(truncateText("short and sweet", 40)).toBe("short and sweet");
    expect(truncateText("x".repeat(40), 40)).toBe("x".repeat(40));
  });

  it("cuts at a word boundary, drops trailing punctuation and appends an ellipsis", () => {
    const out = truncateText("Golden hour at the beach, with friends and snacks", 30);
    expect(out).toBe("Golden hour at the beach…");
    expect(charCount(out)).toBeLessThanOrEqual(30);
  });

  it("cuts mid-word when there is no usable boundary", () => {
    const out = truncateText("a supercalifragilisticexpialidocious-ish", 20);
    expect(out).toBe("a supercalifragilis…");
    expect(charCount(out)).toBe(20);
  });

  it("counts emoji and CJK characters as one and never splits them", () => {
    const family = "👨‍👩‍👧";
    expect(charCount(family)).toBe(1);
    const out = truncateText(family.repeat(30), 10);
    expect(out).toBe(`${family.repeat(9)}…`);
    const zh = truncateText("今天的夕阳真的太美了我们一起去海边散步吧", 10);
    expect(charCount(zh)).toBeLessThanOrEqual(10);
    expect(zh.endsWith("…")).toBe(true);
  });
});

describe("charCount and emojiCount", () => {
  it("count user-perceived characters, on the fast path and off it", () => {
    expect(charCount("abc 日落。✨")).toBe(8);
    expect(charCount("e\u0301")).toBe(1);
    expect(charCount("a\r\nb")).toBe(3);
    expect(charCount("🇫🇷👍🏽☀️")).toBe(3);
    expect(emojiCount("hi ✨ 🇫🇷 👍🏽 ☀️ 1️⃣")).toBe(4);
    expect(emojiCount("plain text。")).toBe(0);
  });

  it("limitEmoji keeps the first ones and tidies the spaces", () => {
    expect(limitEmoji("a ✨ b 🌿 c 📸.", 1)).toBe("a ✨ b c.");
    expect(limitEmoji("no emoji here", 0)).toBe("no emoji here");
  });
});

describe("normalizeHashtags", () => {
  it("adds #, removes spaces and punctuation, splits run-together tags", () => {
    expect(normalizeHashtags(["summer vibes", "#beach #sunset", "#话题#", "##hi!"], 10)).toEqual([
      "#summervibes",
      "#beach",
      "#sunset",
      "#话题",
      "#hi",
    ]);
  });

  it("deduplicates case-insensitively, keeping the first spelling", () => {
    expect(normalizeHashtags(["#Beach", "beach", "#BEACH", "#Café", "#café"], 10)).toEqual(["#Beach", "#Café"]);
  });

  it("drops empty and over-long tags and clamps the count", () => {
    const long = "a".repeat(MAX_HASHTAG_CHARS);
    const fits = "b".repeat(MAX_HASHTAG_CHARS - 1);
    expect(normalizeHashtags(["#", "  ", "🔥", long, fits], 10)).toEqual([`#${fits}`]);
    expect(normalizeHashtags(["a", "b", "c", "d"], 2)).toEqual(["#a", "#b"]);
  });
});

describe("hookOf and truncateSentences", () => {
  it("finds the first sentence in English and in Chinese", () => {
    expect(hookOf("Who else? ✨ More here.")).toBe("Who else?");
    expect(hookOf("Dr. Smith came by! Then more.")).toBe("Dr.");
    expect(hookOf("Title line\nBody. More.")).toBe("Title line");
    expect(hookOf("谁懂啊？今天的夕阳太美了。")).toBe("谁懂啊？");
    expect(hookOf("今天的夕阳太美了。✨下次还来！")).toBe("今天的夕阳太美了。");
  });

  it("cuts at the last whole sentence that fits", () => {
    expect(truncateSentences("One two. Three four. Five six.", 21)).toBe("One two. Three four.");
    expect(truncateSentences("第一句话。第二句话。第三句话。", 12)).toBe("第一句话。第二句话。");
    expect(truncateSentences("Short.", 20)).toBe("Short.");
  });
});

describe("normalizeVariant checks", () => {
  it("passes every check for a caption that keeps the rules", () => {
    const v = normalizeVariant(raw(), ctx("instagram", { cta: true, keywords: ["latte", "rain"] }), "story");
    expect(v.caption).toBe(GOOD);
    expect(v.hashtags).toEqual(["#coffee", "#rainyday"]);
    expect(v.hook).toBe("question");
    expect(statusOf(v)).toEqual({ length: "pass", hook: "pass", hashtags: "pass", band: "pass", emoji: "pass", keywords: "pass", cta: "pass" });
    for (const c of v.checks) expect(c.message).toMatch(/\w/);
  });

  it("cuts a caption over the limit at a sentence and warns on length", () => {
    const long = Array.from({ length: 70 }, () => "Rain on the window, coffee in hand.").join(" ");
    const v = normalizeVariant(raw({ caption: long }), ctx("instagram"), "story");
    expect(charCount(v.caption)).toBeLessThanOrEqual(2200);
    expect(v.caption.endsWith("hand.")).toBe(true);
    expect(statusOf(v).length).toBe("warn");
    expect(v.checks.find((c) => c.rule === "length")?.message).toBe("Shortened to fit Instagram's 2200 characters.");
  });

  it("counts X's hashtags against its 280 characters", () => {
    const sentence = "Rain on the window, coffee in hand.";
    const caption = Array.from({ length: 7 }, () => sentence).join(" "); // 251 characters
    const tags = ["#coffeetimeallday", "#rainydaysforever", "#third"];
    const v = normalizeVariant(raw({ caption, hashtags: tags, cta: null }), ctx("x", { length: "long" }), "story");
    expect(v.hashtags).toEqual(["#coffeetimeallday", "#rainydaysforever"]);
    expect(charCount(v.caption) + 1 + charCount(v.hashtags.join(" "))).toBeLessThanOrEqual(280);
    expect(statusOf(v).length).toBe("warn");
    // Without hashtags the same caption fits.
    const bare = normalizeVariant(raw({ caption, hashtags: [], cta: null }), ctx("x", { length: "long" }), "story");
    expect(bare.caption).toBe(caption);
    expect(statusOf(bare)).toMatchObject({ length: "pass", hashtags: "pass" });
  });

  it("warns when the hook runs past Instagram's 125 characters", () => {
    const hook = `So ${"very ".repeat(30)}slow this morning.`;
    const v = normalizeVariant(raw({ caption: `${hook} ☕ ${GOOD}` }), ctx("instagram"), "story");
    expect(statusOf(v).hook).toBe("warn");
    expect(warns(v)).toEqual(["hook"]);
  });

  it("warns on too few hashtags and drops the ones over the maximum", () => {
    const few = normalizeVariant(raw({ hashtags: ["#coffee"] }), ctx("tiktok", { length: "medium" }), "story");
    expect(warns(few)).toEqual(["hashtags"]);
    expect(few.checks.find((c) => c.rule === "hashtags")?.message).toBe("1 hashtag; TikTok works best with 3–5.");
    const many = normalizeVariant(raw({ hashtags: ["a", "b", "c"] }), ctx("threads", { length: "medium" }), "story");
    expect(many.hashtags).toEqual(["#a"]);
    expect(statusOf(many).hashtags).toBe("pass");
  });

  it("warns on a missing keyword, naming it", () => {
    const v = normalizeVariant(raw(), ctx("instagram", { keywords: ["latte", "croissant"] }), "story");
    expect(warns(v)).toEqual(["keywords"]);
    expect(v.checks.find((c) => c.rule === "keywords")?.message).toBe("Missing keyword: croissant.");
    // Case, spaces and "#" do not matter.
    const ok = normalizeVariant(raw(), ctx("instagram", { keywords: ["Warm Latte", "#rain"] }), "story");
    expect(statusOf(ok).keywords).toBe("pass");
    // Only in the hashtags is not woven in.
    const tagOnly = normalizeVariant(raw(), ctx("instagram", { keywords: ["rainyday"] }), "story");
    expect(statusOf(tagOnly).keywords).toBe("warn");
  });

  it("warns when a call to action was asked for and is missing", () => {
    expect(warns(normalizeVariant(raw({ cta: null }), ctx("instagram", { cta: true }), "story"))).toEqual(["cta"]);
    expect(warns(normalizeVariant(raw({ cta: "Follow for more!" }), ctx("instagram", { cta: true }), "story"))).toEqual(["cta"]);
    // Not asked for: no cta check at all.
    expect(statusOf(normalizeVariant(raw({ cta: null }), ctx("instagram"), "story")).cta).toBeUndefined();
  });

  it("caps emoji at the level's maximum and warns below its minimum", () => {
    const none = normalizeVariant(raw(), ctx("instagram", { emoji: "none" }), "story");
    expect(emojiCount(none.caption)).toBe(0);
    expect(none.caption).toContain("like this? Coffee");
    expect(statusOf(none).emoji).toBe("pass");

    const lots = `${GOOD} 🌧️ 🥐 ✨ 💛 📸`;
    const few = normalizeVariant(raw({ caption: lots }), ctx("instagram"), "story");
    expect(emojiCount(few.caption)).toBe(3);
    expect(statusOf(few).emoji).toBe("pass");

    const many = normalizeVariant(raw(), ctx("instagram", { emoji: "many" }), "story");
    expect(warns(many)).toEqual(["emoji"]);
    expect(many.checks.find((c) => c.rule === "emoji")?.message).toBe('1 emoji; "many" means 4 or more.');
    expect(statusOf(normalizeVariant(raw({ caption: lots }), ctx("instagram", { emoji: "many" }), "story")).emoji).toBe("pass");

    const noneGiven = normalizeVariant(raw({ caption: GOOD.replace(" ☕", "") }), ctx("instagram"), "story");
    expect(warns(noneGiven)).toEqual(["emoji"]);
  });

  it("warns outside the length band, and never cuts for it", () => {
    const short = normalizeVariant(raw(), ctx("instagram", { length: "long" }), "story");
    expect(short.caption).toBe(GOOD);
    expect(warns(short)).toEqual(["band"]);
    expect(short.checks.find((c) => c.rule === "band")?.message).toBe("Shorter than a long caption (450–1200).");
    const long = normalizeVariant(raw(), ctx("instagram", { length: "short" }), "story");
    expect(long.caption).toBe(GOOD);
    expect(warns(long)).toEqual(["band"]);
    expect(statusOf(normalizeVariant(raw(), ctx("instagram", { length: "medium" }), "story")).band).toBe("pass");
  });

  it("checks Xiaohongshu's title line: missing, too long, or kept", () => {
    const rule = PLATFORM_RULES.xiaohongshu;
    const body = "周末和朋友去海边看日落，风很温柔，晚霞很美。".repeat(8);
    const zh = (caption: string) => normalizeVariant(raw({ caption, hashtags: ["a", "b", "c"], cta: null }), ctx("xiaohongshu", {}, "zh"), "story");

    const missing = zh(`${body}🌅`);
    expect(statusOf(missing).title).toBe("warn");
    expect(missing.checks.find((c) => c.rule === "title")?.message).toBe(`缺少标题行（不超过 ${rule.titleMaxChars} 字）。`);

    const longTitle = zh(`这是一个非常非常非常非常非常非常长的标题行真的很长\n${body}🌅`);
    const [title = ""] = longTitle.caption.split("\n");
    expect(charCount(title)).toBeLessThanOrEqual(20);
    expect(title.endsWith("…")).toBe(true);
    expect(warns(longTitle)).toEqual(["title"]);

    const kept = zh(`海边日落太美了！\n${body}🌅`);
    expect(warns(kept)).toEqual([]);
    expect(kept.caption.startsWith("海边日落太美了！\n")).toBe(true);
    // The band counts the body only; the body is bounded to 1000 on its own.
    const huge = zh(`海边日落太美了！\n${body.repeat(6)}`);
    expect(charCount(huge.caption.split("\n").slice(1).join("\n"))).toBeLessThanOrEqual(1000);
    expect(statusOf(huge)).toMatchObject({ length: "warn", title: "pass", band: "warn" });
  });

  it("writes the messages in the caption's language", () => {
    const v = normalizeVariant(raw({ caption: "谁懂啊？今天的夕阳太美了。☕" }), ctx(undefined, { length: "short", cta: true }, "zh"), "story");
    for (const c of v.checks) expect(c.message).toMatch(/\p{Script=Han}/u);
  });

  it("moves trailing #tags out of the caption into the hashtags", () => {
    const v = normalizeVariant(raw({ caption: `${GOOD} #latte #Coffee`, hashtags: ["#coffee"] }), ctx("instagram"), "story");
    expect(v.caption).toBe(GOOD);
    expect(v.hashtags).toEqual(["#coffee", "#latte"]);
    // A caption that is only tags keeps them as its text.
    expect(normalizeVariant(raw({ caption: "#only #tags" }), ctx(undefined), "story").caption).toBe("#only #tags");
  });

  it("replaces an unknown hook label with the fallback", () => {
    expect(normalizeVariant(raw({ hook: "pun" }), ctx("instagram"), "tease").hook).toBe("tease");
  });
});

describe("normalizeOutput", () => {
  const variant = (caption: string, hook = "question"): VariantOutput => ({ hook, caption, hashtags: ["#a"], cta: null });

  it("keeps at most `variants` variants and gives unknown hooks the first unused one", () => {
    const out = normalizeOutput(
      { variants: [variant("One. ✨"), variant("Two. ✨", "??"), variant("Three. ✨", "story"), variant("Four. ✨")] },
      ctx(undefined, { variants: 3 }),
    );
    expect(out.variants.map((v) => v.caption)).toEqual(["One. ✨", "Two. ✨", "Three. ✨"]);
    expect(out.variants.map((v) => v.hook)).toEqual(["question", HOOKS.find((h) => h !== "question"), "story"]);
  });

  it("drops repeats of each other and of avoided captions (case, spaces, emoji ignored)", () => {
    const out = normalizeOutput(
      { variants: [variant("Seen before. ✨"), variant("New one. ✨"), variant("new ONE.  🌿"), variant("Another. ✨")] },
      { ...ctx(undefined, { variants: 3 }), avoid: ["seen before."] },
    );
    expect(out.variants.map((v) => v.caption)).toEqual(["New one. ✨", "Another. ✨"]);
  });

  it("rejects an output with nothing new as invalid_output (retryable)", () => {
    expect(() => normalizeOutput({ variants: [variant("Seen. ✨")] }, { ...ctx(undefined), avoid: ["SEEN."] })).toThrow(
      expect.objectContaining({ kind: "invalid_output", retryable: true }),
    );
  });

  it("keeps a non-empty detectedObject, trimmed", () => {
    const out = normalizeOutput({ variants: [variant("Hi. ✨")], detectedObject: " a red bicycle " }, ctx(undefined));
    expect(out.detectedObject).toBe("a red bicycle");
    expect(normalizeOutput({ variants: [variant("Hi. ✨")], detectedObject: "  " }, ctx(undefined))).not.toHaveProperty("detectedObject");
    expect(normalizeOutput({ variants: [variant("Hi. ✨")], detectedObject: null }, ctx(undefined))).not.toHaveProperty("detectedObject");
  });

  it.each([
    ["an empty caption", { variants: [{ hook: "story", caption: "   ", hashtags: [], cta: null }] }],
    ["no variants", { variants: [] }],
    ["a missing caption", { variants: [{ hook: "story", hashtags: [] }] }],
    ["hashtags that are not strings", { variants: [{ hook: "story", caption: "hi", hashtags: [1, 2] }] }],
    ["the old single-caption shape", { caption: "hi", hashtags: [] }],
    ["a non-object", "just text"],
  ])("rejects %s as invalid_output", (_name, value) => {
    expect(() => normalizeOutput(value, ctx(undefined))).toThrow(UpstreamError);
    expect(() => normalizeOutput(value, ctx(undefined))).toThrow(expect.objectContaining({ kind: "invalid_output", retryable: true }));
  });
});

describe("captionJsonSchema", () => {
  it("is strict-mode compatible and matches the zod schema's fields", () => {
    expect(captionJsonSchema.additionalProperties).toBe(false);
    expect([...captionJsonSchema.required].sort()).toEqual(Object.keys(captionOutputSchema.shape).sort());
    expect(Object.keys(captionJsonSchema.properties).sort()).toEqual(Object.keys(captionOutputSchema.shape).sort());
    const item = captionJsonSchema.properties.variants.items;
    expect(item.additionalProperties).toBe(false);
    expect([...item.required].sort()).toEqual(Object.keys(item.properties).sort());
    expect(item.properties.hook.enum).toEqual([...HOOKS]);
  });
});
