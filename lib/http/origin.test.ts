import { beforeEach, describe, expect, it } from "vitest";
import { applyTestEnv } from "@/e2e/support/harness/env";
import { AppError } from "@/lib/errors";
import { assertSameOrigin, isCrossSiteRequest } from "./origin";

const post = (headers: Record<string, string>, url = "http://localhost:3000/api/auth/logout") =>
  new Request(url, { method: "POST", headers });

describe("assertSameOrigin", () => {
  beforeEach(() => {
    applyTestEnv();
  });

  it("allows a request without Origin (curl, scripts with a bearer token)", () => {
    expect(() => assertSameOrigin(post({}))).not.toThrow();
  });

  it("allows the request's own origin", () => {
    expect(isCrossSiteRequest(post({ origin: "http://localhost:3000" }))).toBe(false);
    expect(isCrossSiteRequest(post({ origin: "https://app.example", host: "app.example" }, "http://10.0.0.5:3000/x"))).toBe(false);
  });

  it("allows APP_URL's origin when a proxy rewrites Host", () => {
    applyTestEnv({ APP_URL: "https://litstatus.example" });
    expect(isCrossSiteRequest(post({ origin: "https://litstatus.example" }, "http://127.0.0.1:3000/x"))).toBe(false);
  });

  it.each([
    [{ origin: "https://evil.example" }],
    [{ origin: "http://localhost:4000" }],
    [{ origin: "null" }],
    [{ origin: "not a url" }],
    [{ "sec-fetch-site": "cross-site" }],
  ])("refuses %j with 403 forbidden", (headers) => {
    const error = (() => {
      try {
        assertSameOrigin(post(headers));
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).status).toBe(403);
    expect((error as AppError).code).toBe("forbidden");
  });
});
