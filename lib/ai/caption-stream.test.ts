import { describe, expect, it } from "vitest";
import { captionStreamer } from "./caption-stream";
import type { CaptionDelta } from "./types";

const output = JSON.stringify({
  variants: [
    { hook: "question", caption: 'Golden "hour"\nwith friends 🌅 — 今天\\done', hashtags: ["#caption"], cta: null },
    { hook: "story", caption: "Second one.", hashtags: [], cta: "Follow along." },
  ],
  detectedObject: "a caption-like object",
});

/** Feeds `text` in pieces of `size` characters and returns each variant's caption text. */
function streamed(text: string, size: number): { byVariant: string[]; deltas: CaptionDelta[] } {
  const deltas: CaptionDelta[] = [];
  const streamer = captionStreamer((d) => deltas.push(d));
  const chars = Array.from(text);
  for (let i = 0; i < chars.length; i += size) streamer.push(chars.slice(i, i + size).join(""));
  const byVariant: string[] = [];
  for (const d of deltas) byVariant[d.variant] = (byVariant[d.variant] ?? "") + d.text;
  return { byVariant, deltas };
}

describe("captionStreamer", () => {
  it("reports only the captions' text, decoded, whatever the split", () => {
    for (const size of [1, 2, 3, 7, 64, 10_000]) {
      const { byVariant } = streamed(output, size);
      expect(byVariant).toEqual(['Golden "hour"\nwith friends 🌅 — 今天\\done', "Second one."]);
    }
  });

  it("decodes \\u escapes split across chunks, surrogate pairs included", () => {
    const escaped = '{"variants":[{"hook":"tease","caption":"hi \\u00e9 \\ud83c\\udf05","hashtags":[],"cta":null}]}';
    for (const size of [1, 4, 5]) expect(streamed(escaped, size).byVariant).toEqual(["hi é 🌅"]);
  });

  it("ignores strings named caption elsewhere (keys, other fields, nesting)", () => {
    const tricky = JSON.stringify({ caption: "top", variants: [{ hook: "caption", caption: "yes", hashtags: ["caption"], x: { caption: "deep" } }] });
    expect(streamed(tricky, 3).byVariant).toEqual(["yes"]);
  });

  it("emits once per variant per chunk", () => {
    const { deltas } = streamed(output, 10_000);
    expect(deltas).toHaveLength(2);
  });
});
