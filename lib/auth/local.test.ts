import { describe, expect, it } from "vitest";
import { applyTestEnv } from "@/e2e/support/harness/env";
import { publicOrigin, safeNextPath } from "./local";

describe("safeNextPath", () => {
  it.each([
    ["/history", "/history"],
    ["/history?page=2#top", "/history?page=2#top"],
    ["/a/../b", "/b"],
  ])("keeps the same-site path %s", (raw, expected) => {
    expect(safeNextPath(raw)).toBe(expected);
  });

  it.each([
    [null],
    [""],
    ["https://evil.example/"],
    ["//evil.example/x"],
    ["/\\evil.example"],
    ["/.//evil.example"],
    ["/\r\nSet-Cookie:x=1"],
    ["javascript:alert(1)"],
    [`/${"a".repeat(600)}`],
  ])("turns %j into /", (raw) => {
    expect(safeNextPath(raw)).toBe("/");
  });
});

describe("publicOrigin", () => {
  it("prefers APP_URL over the request's origin", () => {
    const req = new Request("http://10.0.0.5:3000/api/auth/local/start");
    expect(publicOrigin(req, applyTestEnv())).toBe("http://10.0.0.5:3000");
    expect(publicOrigin(req, applyTestEnv({ APP_URL: "https://litstatus.example/app" }))).toBe("https://litstatus.example");
  });

  it("uses the host the browser addressed, not the server's own name for itself", () => {
    const req = new Request("http://localhost:3100/api/auth/local/start", { headers: { host: "127.0.0.1:3100" } });
    expect(publicOrigin(req, applyTestEnv())).toBe("http://127.0.0.1:3100");
    const hostile = new Request("http://localhost:3100/x", { headers: { host: "evil.example/path?" } });
    expect(publicOrigin(hostile, applyTestEnv())).toBe("http://localhost:3100");
  });
});
