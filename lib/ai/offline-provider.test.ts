import { describe, expect, it } from "vitest";
import { OFFLINE_MODEL, createOfflineProvider } from "./offline-provider";
import { charCount } from "./output";
import { platformRules } from "./prompts";
import { LANGS, MODES, PLATFORMS, UpstreamError, type CaptionRequest } from "./types";

const provider = createOfflineProvider();
const opts = { timeoutMs: 1000 };
const req = (over: Partial<CaptionRequest> = {}): CaptionRequest => ({
  text: "Coffee with friends on a rainy Sunday morning",
  mode: "standard",
  lang: "en",
  ...over,
});

describe("offline provider", () => {
  it("is labelled offline, with no moderation", async () => {
    expect(provider.name).toBe("offline");
    expect(provider.modelFor(req())).toBe(OFFLINE_MODEL);
    expect("moderate" in provider).toBe(false);
    const result = await provider.generate(req(), opts);
    expect(result).toMatchObject({ provider: "offline", model: OFFLINE_MODEL });
    expect(result.usage).toBeUndefined();
  });

  it("is deterministic", async () => {
    const a = await provider.generate(req({ mode: "savage", platform: "tiktok" }), opts);
    const b = await provider.generate(req({ mode: "savage", platform: "tiktok" }), opts);
    expect(a).toEqual(b);
  });

  it("varies with mode, lang and text", async () => {
    const captions = new Set<string>();
    for (const mode of MODES) {
      for (const lang of LANGS) captions.add((await provider.generate(req({ mode, lang }), opts)).caption);
    }
    expect(captions.size).toBe(MODES.length * LANGS.length);
    // Different texts pick different templates: put the text back as "{t}" to compare templates.
    const templates = new Set<string>();
    for (let i = 1; i <= 8; i += 1) {
      const text = `walk number ${i}`;
      templates.add((await provider.generate(req({ text }), opts)).caption.replace(new RegExp(text, "i"), "{t}"));
    }
    expect(templates.size).toBeGreaterThan(1);
  });

  it("quotes the user's words and tags their keywords", async () => {
    const result = await provider.generate(req(), opts);
    expect(result.caption.toLowerCase()).toContain("coffee with friends");
    expect(result.hashtags).toEqual(expect.arrayContaining(["#coffee", "#friends"]));
    expect(result.hashtags).not.toContain("#with");
  });

  it("writes Chinese templates and tags in zh", async () => {
    const result = await provider.generate(req({ text: "周末和朋友去海边看日落", lang: "zh", mode: "rizz" }), opts);
    expect(result.caption).toMatch(/\p{Script=Han}/u);
    expect(result.caption).toContain("周末和朋友去海边看日落");
    expect(result.hashtags[0]).toBe("#周末");
    expect(result.hashtags).toContain("#撩人");
  });

  it("obeys every platform's caption length and hashtag count", async () => {
    const long = "An extraordinarily long description of a very memorable afternoon ".repeat(10);
    for (const platform of [undefined, ...PLATFORMS]) {
      const { maxCaptionChars, hashtagCount } = platformRules(platform);
      for (const mode of MODES) {
        for (const lang of LANGS) {
          for (const text of [long, "hi", "日落"]) {
            const result = await provider.generate(req({ text, mode, lang, platform }), opts);
            expect(charCount(result.caption)).toBeLessThanOrEqual(maxCaptionChars);
            expect(result.hashtags.length).toBeGreaterThanOrEqual(hashtagCount[0]);
            expect(result.hashtags.length).toBeLessThanOrEqual(hashtagCount[1]);
            for (const tag of result.hashtags) expect(tag).toMatch(/^#[\p{L}\p{N}\p{M}_]+$/u);
          }
        }
      }
    }
  });

  it("fails fast as a timeout when the signal has already aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(provider.generate(req(), { ...opts, signal: controller.signal })).rejects.toMatchObject({
      constructor: UpstreamError,
      kind: "timeout",
    });
  });
});
