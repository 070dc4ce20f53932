import { describe, expect, it } from "vitest";
import {
  MAX_HASHTAG_CHARS,
  captionJsonSchema,
  captionOutputSchema,
  charCount,
  normalizeHashtags,
  normalizeOutput,
  truncateText,
} from "./output";
import type { PlatformRules } from "./prompts";
import { UpstreamError } from "./types";

const rules: PlatformRules = { maxCaptionChars: 40, hashtagCount: [1, 3] };

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

describe("normalizeOutput", () => {
  it("trims, bounds the caption and normalizes hashtags", () => {
    const out = normalizeOutput(
      {
        caption: "  Golden hour at the beach, with friends and snacks and more  ",
        hashtags: ["#a", "b", "c", "d"],
        detectedObject: null,
      },
      rules,
    );
    expect(out.caption).toBe("Golden hour at the beach, with friends…");
    expect(out.hashtags).toEqual(["#a", "#b", "#c"]);
    expect(out).not.toHaveProperty("detectedObject");
  });

  it("keeps a non-empty detectedObject, trimmed", () => {
    expect(normalizeOutput({ caption: "hi", hashtags: [], detectedObject: " a red bicycle " }, rules)).toEqual({
      caption: "hi",
      hashtags: [],
      detectedObject: "a red bicycle",
    });
    expect(normalizeOutput({ caption: "hi", hashtags: [], detectedObject: "  " }, rules)).toEqual({
      caption: "hi",
      hashtags: [],
    });
  });

  it.each([
    ["an empty caption", { caption: "   ", hashtags: [] }],
    ["a missing caption", { hashtags: [] }],
    ["hashtags that are not strings", { caption: "hi", hashtags: [1, 2] }],
    ["a non-object", "just text"],
  ])("rejects %s as invalid_output", (_name, raw) => {
    expect(() => normalizeOutput(raw, rules)).toThrow(UpstreamError);
    try {
      normalizeOutput(raw, rules);
    } catch (error) {
      expect(error).toMatchObject({ kind: "invalid_output", retryable: true });
    }
  });
});

describe("captionJsonSchema", () => {
  it("is strict-mode compatible and matches the zod schema's fields", () => {
    expect(captionJsonSchema.additionalProperties).toBe(false);
    expect([...captionJsonSchema.required].sort()).toEqual(Object.keys(captionOutputSchema.shape).sort());
    expect(Object.keys(captionJsonSchema.properties).sort()).toEqual(Object.keys(captionOutputSchema.shape).sort());
  });
});
