import { beforeEach, describe, expect, it } from "vitest";
import { applyTestEnv } from "@/e2e/support/harness/env";
import { isCrossSiteRequest } from "./origin";

const post = (headers: Record<string, string>, url = "http://localhost:3000/api/auth/logout") =>
  new Request(url, { method: "POST", headers });

describe("isCrossSiteRequest", () => {
  beforeEach(() => {
    applyTestEnv();
  });

  it("allows a request without Origin (curl, scripts with a bearer token)", () => {
    expect(isCrossSiteRequest(post({}))).toBe(false);
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
  ])("counts %j as cross-site (the route policy answers 403)", (headers) => {
    expect(isCrossSiteRequest(post(headers))).toBe(true);
  });
});
