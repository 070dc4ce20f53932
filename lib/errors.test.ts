import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AppError, DATABASE_UNAVAILABLE_RETRY_AFTER_SECONDS, ERROR_STATUS, errorEnvelope, toAppError, type ErrorCode } from "./errors";

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

describe("toAppError", () => {
  /** An error as postgres.js (or the socket under it) rejects with. */
  const withCode = (code: string) => Object.assign(new Error(`failure ${code}`), { code });

  it.each(["ECONNREFUSED", "ECONNRESET", "CONNECTION_CLOSED", "CONNECTION_DESTROYED", "CONNECT_TIMEOUT", "08006", "57P01", "57P03"])(
    "an unreachable database (%s) is 503 busy with Retry-After, never 500",
    (code) => {
      const error = toAppError(withCode(code));
      expect(error.code).toBe("busy");
      expect(error.status).toBe(503);
      expect(error.retryAfterSeconds).toBe(DATABASE_UNAVAILABLE_RETRY_AFTER_SECONDS);
      expect(error.message).not.toContain(code);
    },
  );

  it.each(["23505", "42P01", "22P02", "57014"])("a failing query (%s) stays internal", (code) => {
    expect(toAppError(withCode(code)).code).toBe("internal");
  });

  it("keeps an AppError and turns anything else into internal", () => {
    const busy = new AppError("busy");
    expect(toAppError(busy)).toBe(busy);
    expect(toAppError(new Error("boom")).code).toBe("internal");
    expect(toAppError("boom").code).toBe("internal");
  });
});
