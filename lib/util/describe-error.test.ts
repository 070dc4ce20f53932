import { describe, expect, it } from "vitest";
import { describeError } from "./describe-error";

describe("describeError", () => {
  it("names the cause and drops @upstash/redis's command arguments", () => {
    const fetchFailure = new Error("fetch failed", { cause: new Error("connect ECONNREFUSED 127.0.0.1:1") });
    expect(describeError(fetchFailure)).toBe("fetch failed: connect ECONNREFUSED 127.0.0.1:1");
    expect(describeError(new Error('ERR boom, command was: ["set","k","secret"]'))).toBe("ERR boom");
    expect(describeError("plain")).toBe("plain");
  });

  it("cuts long messages to 200 characters and marks the cut", () => {
    const text = describeError(new Error("x".repeat(500)));
    expect(text).toBe(`${"x".repeat(200)}…`);
  });
});
