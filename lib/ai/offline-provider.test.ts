import { describe, expect, it } from "vitest";
import { PHRASES } from "./offline-phrases";
import { OFFLINE_MODEL, createOfflineProvider } from "./offline-provider";
import { charCount } from "./output";
import { EMOJI_RANGE, PLATFORM_RULES, bandFor, ruleFor } from "./platform-rules";
import {
  EMOJI_LEVELS,
  HOOKS,
  LANGS,
  LENGTHS,
  MODES,
  PLATFORMS,
  UpstreamError,
  type CaptionCheck,
  type CaptionControls,
  type CaptionRequest,
  type CaptionVariant,
  type CheckRule,
  type Lang,
  type Platform,
} from "./types";

const provider = createOfflineProvider();
const opts = { timeoutMs: 1000 };
const TEXT: Record<Lang, string> = { en: "Coffee with friends on a rainy Sunday morning", zh: "周末和朋友去海边看日落" };
const KEYWORDS: Record<Lang, string[]> = { en: ["latte", "rainy day"], zh: ["拿铁", "海边"] };

const controls = (over: Partial<CaptionControls> = {}): CaptionControls => ({
  variants: 1,
  emoji: "few",
  length: "medium",
  cta: false,
  keywords: [],
  ...over,
});
const req = (over: Partial<CaptionRequest> = {}, ctl: Partial<CaptionControls> = {}): CaptionRequest => ({
  text: TEXT.en,
  mode: "standard",
  lang: "en",
  controls: controls(ctl),
  ...over,
});

// Counted independently of lib/ai/output.ts. Offline captions hold no combining sequences (no
// joiner, variation selector, skin tone, flag, accent or "\r\n"), so a code point is a character.
const COMBINING = /[\uFE0F\u200D\r\u0300-\u036F\u{1F3FB}-\u{1F3FF}\p{Regional_Indicator}]/u;
const chars = (s: string) => {
  if (COMBINING.test(s)) throw new Error(`combining sequence in ${JSON.stringify(s)}`);
  return Array.from(s).length;
};
const emojis = (s: string) => Array.from(s).filter((c) => /\p{Extended_Pictographic}/u.test(c)).length;
const stripEmoji = (s: string) => s.replace(/[\p{Extended_Pictographic}\uFE0F\u200D]/gu, "");
const SENTENCE_END = /[.!?。！？]["”’)]*(?:\s*\p{Extended_Pictographic})*$/u;

/** The title (Xiaohongshu) and the body the length rules apply to. */
function parts(caption: string, platform?: Platform): { title?: string; body: string } {
  if (platform === undefined || PLATFORM_RULES[platform].titleMaxChars === undefined) return { body: caption };
  const [title = "", ...rest] = caption.split("\n");
  return { title, body: rest.join("\n") };
}

/** The first sentence of the first line. */
function firstSentence(caption: string): string {
  const line = caption.split("\n")[0] ?? "";
  const m = /^.*?(?:[。！？]|[.!?](?=\s|$))/u.exec(line);
  return m ? m[0] : line;
}

/** What each check should say, recomputed from the table. */
function expectedChecks(v: CaptionVariant, r: CaptionRequest): Partial<Record<CheckRule, boolean>> {
  const rule = ruleFor(r.platform);
  const { title, body } = parts(v.caption, r.platform);
  const tagChars = rule.hashtagsInLength && v.hashtags.length > 0 ? 1 + chars(v.hashtags.join(" ")) : 0;
  const [bandMin, bandMax] = bandFor(rule, r.controls.length, r.lang);
  const [emojiMin, emojiMax] = EMOJI_RANGE[r.controls.emoji];
  const text = v.caption.toLowerCase();
  const out: Partial<Record<CheckRule, boolean>> = {
    length: chars(body) + tagChars <= rule.maxChars,
    hashtags: v.hashtags.length >= rule.hashtags.min && v.hashtags.length <= rule.hashtags.max,
    band: chars(body) >= bandMin && chars(body) <= bandMax,
    emoji: emojis(v.caption) >= emojiMin && emojis(v.caption) <= emojiMax,
  };
  if (rule.titleMaxChars !== undefined) out.title = title !== undefined && title !== "" && chars(title) <= rule.titleMaxChars;
  if (rule.hookWithin !== undefined) out.hook = chars(firstSentence(v.caption)) <= rule.hookWithin;
  if (r.controls.keywords.length > 0) out.keywords = r.controls.keywords.every((k) => text.includes(k.toLowerCase()));
  if (r.controls.cta) {
    const last = stripEmoji(v.caption).trimEnd();
    out.cta = PHRASES[r.lang][r.mode].ctas.some((c) => last.endsWith(c));
  }
  return out;
}

function assertVariant(v: CaptionVariant, r: CaptionRequest): void {
  const rule = ruleFor(r.platform);
  const { title, body } = parts(v.caption, r.platform);
  const where = JSON.stringify({ platform: r.platform, lang: r.lang, mode: r.mode, controls: r.controls, caption: v.caption });

  // Hard limits.
  const total = chars(body) + (rule.hashtagsInLength && v.hashtags.length > 0 ? 1 + chars(v.hashtags.join(" ")) : 0);
  expect(total, where).toBeLessThanOrEqual(rule.maxChars);
  if (rule.titleMaxChars !== undefined) {
    expect(title, where).toBeTruthy();
    expect(chars(title ?? ""), where).toBeLessThanOrEqual(rule.titleMaxChars);
    expect(body.trim(), where).not.toBe("");
  }
  expect(v.hashtags.length, where).toBeGreaterThanOrEqual(rule.hashtags.min);
  expect(v.hashtags.length, where).toBeLessThanOrEqual(rule.hashtags.max);
  for (const tag of v.hashtags) expect(tag).toMatch(/^#[\p{L}\p{N}\p{M}_]+$/u);

  // Every check passes, and says what an independent recomputation says.
  const expected = expectedChecks(v, r);
  expect(Object.fromEntries(v.checks.map((c: CaptionCheck) => [c.rule, c.status === "pass"])), where).toEqual(expected);
  for (const c of v.checks) {
    expect(c.status, `${c.rule}: ${c.message} ${where}`).toBe("pass");
    expect(c.message).not.toBe("");
  }

  // Whole sentences only: the caption ends like a sentence, with nothing cut.
  expect(v.caption, where).toMatch(SENTENCE_END);
  expect(v.caption).not.toContain("…");
  if (title !== undefined) expect(body, where).toMatch(SENTENCE_END);

  // The hook label matches the first sentence's kind.
  expect(HOOKS).toContain(v.hook);
  const opening = firstSentence(v.caption);
  if (v.hook === "question") expect(opening, where).toMatch(/[?？]$/u);
  else expect(opening, where).not.toMatch(/[?？]$/u);

  // The language asked for is the language written.
  if (r.lang === "zh") {
    expect(v.caption).toMatch(/\p{Script=Han}/u);
    const own = `${r.text} ${r.controls.keywords.join(" ")}`.toLowerCase();
    for (const word of v.caption.match(/[A-Za-z]+/g) ?? []) expect(own, where).toContain(word.toLowerCase());
    const ownJoined = own.replace(/\s+/g, "");
    for (const tag of v.hashtags) if (/[A-Za-z]/.test(tag)) expect(ownJoined, where).toContain(tag.slice(1).toLowerCase());
  } else if (!/\p{Script=Han}/u.test(r.text)) {
    expect(`${v.caption} ${v.hashtags.join(" ")}`).not.toMatch(/\p{Script=Han}/u);
  }
}

describe("offline provider", () => {
  it("is labelled offline, with no moderation", async () => {
    expect(provider.name).toBe("offline");
    expect(provider.modelFor(req())).toBe(OFFLINE_MODEL);
    expect(OFFLINE_MODEL).toBe("offline-demo-v2");
    expect("moderate" in provider).toBe(false);
    const result = await provider.generate(req(), opts);
    expect(result).toMatchObject({ provider: "offline", model: OFFLINE_MODEL });
    expect(result.usage).toBeUndefined();
    expect(result.detectedObject).toBeUndefined();
  });

  it("keeps every rule on every platform, length, emoji level, language and mode", async () => {
    let n = 0;
    for (const platform of [undefined, ...PLATFORMS]) {
      for (const length of LENGTHS) {
        for (const emoji of EMOJI_LEVELS) {
          for (const lang of LANGS) {
            for (const mode of MODES) {
              // Sample variants × cta × keywords: each of the 8 combinations comes round often.
              const variants = n % 2 === 0 ? 1 : 3;
              const cta = (n >> 1) % 2 === 1;
              const keywords = (n >> 2) % 2 === 1 ? KEYWORDS[lang] : [];
              n += 1;
              const r = req({ text: TEXT[lang], lang, mode, platform }, { variants, emoji, length, cta, keywords });
              const result = await provider.generate(r, opts);
              expect(result.variants).toHaveLength(variants);
              for (const v of result.variants) assertVariant(v, r);
              expect(new Set(result.variants.map((v) => v.caption)).size).toBe(variants);
              expect(new Set(result.variants.map((v) => v.hook)).size).toBe(variants);
            }
          }
        }
      }
    }
  });

  it("writes in the language asked for, quoting the user's words whole", async () => {
    const texts = [
      "周末和朋友去海边看日落",
      "Golden hour at the beach, with friends and snacks and a dog who stole the show",
      `${"An extraordinarily long description of a very memorable afternoon ".repeat(25)}`.trim(),
      "🔥🔥 party 🎉 time",
      "hi",
    ];
    for (const text of texts) {
      for (const lang of LANGS) {
        for (const platform of ["x", "instagram", "xiaohongshu"] as const) {
          for (const emoji of EMOJI_LEVELS) {
            const r = req({ text, lang, platform, mode: "rizz" }, { variants: 3, emoji, cta: true, keywords: ["sunset"] });
            const result = await provider.generate(r, opts);
            for (const v of result.variants) assertVariant(v, r);
          }
        }
      }
    }
  });

  it("is deterministic for the same request", async () => {
    const r = req({ mode: "savage", platform: "tiktok" }, { variants: 3, cta: true, keywords: ["latte"] });
    expect(await provider.generate(r, opts)).toEqual(await provider.generate(r, opts));
  });

  it("varies with mode, lang and text", async () => {
    const captions = new Set<string>();
    for (const mode of MODES) {
      for (const lang of LANGS) captions.add((await provider.generate(req({ mode, lang }), opts)).variants[0]?.caption ?? "");
    }
    expect(captions.size).toBe(MODES.length * LANGS.length);
  });

  it("puts the keywords in the text and in the hashtags", async () => {
    const r = req({ platform: "instagram" }, { keywords: ["latte art", "Rainy"] });
    const [v] = (await provider.generate(r, opts)).variants;
    expect(v?.caption).toContain("latte art");
    expect(v?.caption).toContain("Rainy");
    expect(v?.hashtags.slice(0, 2)).toEqual(["#latteart", "#Rainy"]);
  });

  it("writes keywords given as tags or with emoji as plain words", async () => {
    const r = req({ platform: "tiktok" }, { keywords: ["#latte", "rain ☔"] });
    const [v] = (await provider.generate(r, opts)).variants;
    expect(v?.caption).toContain(" latte and rain");
    expect(v?.caption).not.toContain("#");
    expect(v?.checks.every((c) => c.status === "pass")).toBe(true);
  });

  it("never returns a caption the user has already seen, over 20 regenerations", async () => {
    const cases: CaptionRequest[] = [
      req({ platform: "instagram" }, { variants: 3 }),
      req({ platform: "x", lang: "zh", text: TEXT.zh, mode: "savage" }, { variants: 3, length: "short", cta: true, keywords: KEYWORDS.zh, emoji: "none" }),
    ];
    for (const first of cases) {
      const seen: string[] = (await provider.generate(first, opts)).variants.map((v) => v.caption);
      for (let i = 0; i < 20; i += 1) {
        const r = { ...first, avoid: [...seen] };
        const result = await provider.generate(r, opts);
        expect(result.variants).toHaveLength(first.controls.variants);
        for (const v of result.variants) {
          expect(seen).not.toContain(v.caption);
          assertVariant(v, r);
          seen.push(v.caption);
        }
      }
      // A regenerate is deterministic too: the same avoid list, the same answer.
      const again = { ...first, avoid: seen.slice(0, -first.controls.variants) };
      expect((await provider.generate(again, opts)).variants.map((v) => v.caption)).toEqual(seen.slice(-first.controls.variants));
    }
  });

  it("streams word-sized deltas that add up to each caption, yielding between them", async () => {
    for (const lang of LANGS) {
      const deltas: { variant: number; text: string }[] = [];
      let ticks = 0;
      let running = true;
      const spin = () => {
        ticks += 1;
        if (running) setImmediate(spin);
      };
      setImmediate(spin);
      const r = req({ lang, text: TEXT[lang] }, { variants: 3 });
      const result = await provider.generate(r, { ...opts, onDelta: (d) => deltas.push(d) });
      running = false;
      const variantOrder = deltas.map((d) => d.variant);
      expect(variantOrder).toEqual([...variantOrder].sort());
      result.variants.forEach((v, i) => {
        const pieces = deltas.filter((d) => d.variant === i).map((d) => d.text);
        expect(pieces.length).toBeGreaterThan(3);
        expect(pieces.join("")).toBe(v.caption);
        if (lang === "en") for (const p of pieces) expect(p.trim().split(/\s+/).length).toBeLessThanOrEqual(2);
      });
      expect(ticks).toBeGreaterThan(deltas.length / 2);
      // Streaming changes nothing in the answer.
      expect(await provider.generate(r, opts)).toEqual(result);
    }
  });

  it("fails as a timeout when the signal aborts, before or while streaming", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(provider.generate(req(), { ...opts, signal: controller.signal })).rejects.toMatchObject({
      constructor: UpstreamError,
      kind: "timeout",
    });
    const midway = new AbortController();
    await expect(
      provider.generate(req(), { ...opts, signal: midway.signal, onDelta: () => midway.abort() }),
    ).rejects.toMatchObject({ constructor: UpstreamError, kind: "timeout" });
  });
});

describe("offline phrase bank", () => {
  const longest = Math.max(...Object.values(PLATFORM_RULES).map((rule) => rule.bands.long[1]));
  for (const lang of LANGS) {
    for (const mode of MODES) {
      it(`${lang}/${mode} has enough whole sentences of each kind`, () => {
        const bank = PHRASES[lang][mode];
        for (const kind of HOOKS) {
          expect(bank.hooks[kind].length).toBeGreaterThanOrEqual(2);
          expect(bank.titles[kind].length).toBeGreaterThanOrEqual(1);
          for (const title of bank.titles[kind]) expect(charCount(title)).toBeLessThanOrEqual(PLATFORM_RULES.xiaohongshu.titleMaxChars ?? 0);
          for (const hook of bank.hooks[kind]) {
            expect(hook).toMatch(SENTENCE_END);
            if (kind === "question") expect(hook).toMatch(/[?？]$/u);
          }
        }
        expect(bank.ctas.length).toBeGreaterThanOrEqual(4);
        expect(new Set(bank.body).size).toBe(bank.body.length);
        // Enough body to fill LinkedIn's long band (the longest) without repeating a sentence.
        const [min] = bandFor(PLATFORM_RULES.linkedin, "long", lang);
        expect(bank.body.reduce((sum, s) => sum + charCount(s), 0)).toBeGreaterThan(min * 1.2);
        expect(min).toBeLessThan(longest);
        for (const s of [...bank.body, ...bank.ctas, ...bank.keywords]) expect(s).toMatch(SENTENCE_END);
        if (lang === "zh") {
          const all = [...Object.values(bank.hooks), ...Object.values(bank.titles), bank.body, bank.keywords, bank.ctas]
            .flat()
            .join("")
            .replace(/\{[tk]\}/g, "");
          expect(all).not.toMatch(/[A-Za-z]/);
          expect(all).not.toMatch(/[.!?]/);
        }
      });
    }
  }
});
