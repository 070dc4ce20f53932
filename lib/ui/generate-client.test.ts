import { describe, expect, it } from "vitest";
import { parseKeywords, SseParser } from "./generate-client";

describe("SseParser", () => {
  it("returns whole events only, keeping a split event for the next chunk", () => {
    const parser = new SseParser();
    expect(parser.push('event: delta\ndata: {"variant":0,"text":"Gol')).toEqual([]);
    expect(parser.push('den "}\n\nevent: variant\ndata: {"index":0}\n\nevent: do')).toEqual([
      { event: "delta", data: '{"variant":0,"text":"Golden "}' },
      { event: "variant", data: '{"index":0}' },
    ]);
    expect(parser.push("ne\ndata: {}\n\n")).toEqual([{ event: "done", data: "{}" }]);
  });

  it("joins multi-line data, accepts CRLF, skips comments and events without data", () => {
    const parser = new SseParser();
    expect(parser.push(": keep-alive\r\n\r\nevent: error\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\nevent: ping\n\n")).toEqual([
      { event: "error", data: '{"a":\n1}' },
    ]);
  });

  it("names an event without an event field 'message'", () => {
    expect(new SseParser().push("data:x\n\n")).toEqual([{ event: "message", data: "x" }]);
  });
});

describe("parseKeywords", () => {
  it("splits on Latin and Chinese commas, trims, drops empties and case-insensitive repeats", () => {
    expect(parseKeywords(" Sunset, picnic,,sunset，野餐、 ")).toEqual({ keywords: ["Sunset", "picnic", "野餐"], problem: null });
  });

  it("names the first limit broken: more than 5, or one longer than 30 characters", () => {
    expect(parseKeywords("a, b, c, d, e, f").problem).toBe("tooMany");
    expect(parseKeywords(`a, ${"x".repeat(31)}`).problem).toBe("tooLong");
    expect(parseKeywords("😀".repeat(30)).problem).toBeNull();
  });
});
