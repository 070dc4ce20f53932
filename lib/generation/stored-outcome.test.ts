import { describe, expect, it } from "vitest";
import { parseStoredOutcome } from "./types";

const stored = (caption: string) =>
  JSON.stringify({ variants: [{ caption, hashtags: ["#a"], hook: "question", checks: [] }], provider: "offline", model: "offline-v1" });

describe("parseStoredOutcome", () => {
  it("parses and validates a stored answer once, then answers the same frozen outcome for the same text", () => {
    const text = stored("hello there");
    const first = parseStoredOutcome(text);
    expect(first.variants[0]?.caption).toBe("hello there");
    expect(parseStoredOutcome(text)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.variants[0]?.hashtags)).toBe(true);
    expect(() => (first.variants as unknown as unknown[]).push({})).toThrow(TypeError);
  });

  it("refuses a stored text that is not an outcome, every time", () => {
    const bad = JSON.stringify({ variants: [], provider: "offline", model: "m" });
    expect(() => parseStoredOutcome(bad)).toThrow();
    expect(() => parseStoredOutcome(bad)).toThrow();
    expect(() => parseStoredOutcome("{not json")).toThrow(SyntaxError);
  });

  it("keeps only the most recently used texts", () => {
    const oldest = parseStoredOutcome(stored("oldest"));
    const kept = parseStoredOutcome(stored("kept"));
    for (let i = 0; i < 300; i++) {
      parseStoredOutcome(stored(`filler ${i}`));
      if (i % 50 === 0) parseStoredOutcome(stored("kept")); // used again: stays
    }
    expect(parseStoredOutcome(stored("kept"))).toBe(kept);
    const again = parseStoredOutcome(stored("oldest"));
    expect(again).not.toBe(oldest);
    expect(again).toEqual(oldest);
  });
});
