import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AppError, ERROR_STATUS, errorEnvelope, type ErrorCode } from "./errors";

const CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

describe("error codes", () => {
  it.each(["en", "zh"])("every code has a localized message in messages/%s/errors.json", (locale) => {
    const messages = JSON.parse(readFileSync(`messages/${locale}/errors.json`, "utf8")) as Record<string, string>;
    expect(CODES.filter((code) => !messages[code])).toEqual([]);
  });

  it("the envelope carries the code, a message and the request id; Allow stays out of the body", () => {
    const error = new AppError("method_not_allowed", undefined, { allow: ["POST", "OPTIONS"] });
    expect(error.status).toBe(405);
    expect(errorEnvelope(error, "req-1")).toEqual({ error: { code: "method_not_allowed", message: expect.any(String), requestId: "req-1" } });
  });
});
