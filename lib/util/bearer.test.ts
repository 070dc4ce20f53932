import { describe, expect, it } from "vitest";
import { bearerMatches, bearerToken } from "./bearer";

describe("bearer tokens", () => {
  it("reads the token of a Bearer header, case-insensitively, trimmed", () => {
    expect(bearerToken("Bearer abc")).toBe("abc");
    expect(bearerToken("bearer   abc  ")).toBe("abc");
    expect(bearerToken("Basic abc")).toBe("");
    expect(bearerToken("Bearer ")).toBe("");
    expect(bearerToken(null)).toBe("");
  });

  it("matches the current secret or, during a rotation, the previous one", () => {
    expect(bearerMatches("Bearer new-secret", ["new-secret", "old-secret"])).toBe(true);
    expect(bearerMatches("Bearer old-secret", ["new-secret", "old-secret"])).toBe(true);
    expect(bearerMatches("Bearer old-secret", ["new-secret", undefined])).toBe(false);
    expect(bearerMatches("Bearer other", ["new-secret", "old-secret"])).toBe(false);
  });

  it("never matches an empty token or an unset secret", () => {
    expect(bearerMatches("Bearer ", ["", undefined])).toBe(false);
    expect(bearerMatches(null, [undefined])).toBe(false);
    expect(bearerMatches("Bearer x", [])).toBe(false);
  });
});
