import { beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { applyTestEnv } from "@/lib/testing/env";
import { readJsonBody } from "./body";
import { AppError } from "./errors";
import { json, route } from "./route";

const noParams = { params: Promise.resolve({}) };

describe("route wrapper", () => {
  beforeEach(() => {
    applyTestEnv();
  });

  it("adds a request id, Server-Timing and API security headers", async () => {
    const handler = route("t", async ({ timing }) => {
      timing.add("db", 1.5);
      return json({ ok: true });
    });
    const res = await handler(new Request("http://x/api/t"), noParams);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get("server-timing")).toMatch(/^db;dur=1\.5, total;dur=\d+\.\d$/);
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("keeps a well-formed inbound X-Request-Id and replaces a hostile one", async () => {
    const handler = route("t", async () => json({}));
    const kept = await handler(new Request("http://x", { headers: { "x-request-id": "trace-abc-123" } }), noParams);
    expect(kept.headers.get("x-request-id")).toBe("trace-abc-123");
    const replaced = await handler(new Request("http://x", { headers: { "x-request-id": "<script>" } }), noParams);
    expect(replaced.headers.get("x-request-id")).not.toBe("<script>");
  });

  it("turns AppError into the envelope with Retry-After", async () => {
    const handler = route("t", async () => {
      throw new AppError("quota_exceeded", undefined, { retryAfterSeconds: 12.2 });
    });
    const res = await handler(new Request("http://x"), noParams);
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("13");
    const body = (await res.json()) as { error: { code: string; message: string; requestId: string } };
    expect(body.error.code).toBe("quota_exceeded");
    expect(body.error.requestId).toBe(res.headers.get("x-request-id"));
  });

  it("never leaks internals of unexpected errors", async () => {
    const handler = route("t", async () => {
      throw new Error("connection string postgres://secret@db");
    });
    const res = await handler(new Request("http://x"), noParams);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain("secret");
    expect(JSON.parse(text)).toMatchObject({ error: { code: "internal" } });
  });

  it("passes the trusted client IP (right-most x-forwarded-for hop by default)", async () => {
    let seen: string | null = "unset";
    const handler = route("t", async ({ ip }) => {
      seen = ip;
      return json({});
    });
    await handler(new Request("http://x", { headers: { "x-forwarded-for": "6.6.6.6, 203.0.113.9" } }), noParams);
    expect(seen).toBe("203.0.113.9");
  });

  it("awaits dynamic segment params", async () => {
    const handler = route<{ id: string }>("t", async ({ params }) => json({ id: params.id }));
    const res = await handler(new Request("http://x"), { params: Promise.resolve({ id: "42" }) });
    expect(await res.json()).toEqual({ id: "42" });
  });
});

describe("readJsonBody", () => {
  const schema = z.object({ text: z.string().min(1) }).strict();
  const post = (body: BodyInit, type = "application/json", extra: Record<string, string> = {}) =>
    new Request("http://x", { method: "POST", body, headers: { "content-type": type, ...extra } });

  it("parses a valid body", async () => {
    await expect(readJsonBody(post('{"text":"hi"}'), schema, 100)).resolves.toEqual({ text: "hi" });
  });

  it.each([
    ["malformed JSON", post("{nope"), "invalid_input", 400],
    ["schema violation", post('{"text":""}'), "invalid_input", 400],
    ["unknown field", post('{"text":"a","x":1}'), "invalid_input", 400],
    ["wrong media type", post('{"text":"a"}', "text/plain"), "unsupported_media_type", 415],
    ["oversized (streamed)", post(JSON.stringify({ text: "a".repeat(500) })), "payload_too_large", 413],
    ["oversized (declared)", post("{}", "application/json", { "content-length": "99999" }), "payload_too_large", 413],
  ])("%s → %s", async (_name, req, code, status) => {
    const error = await readJsonBody(req, schema, 100).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe(code);
    expect((error as AppError).status).toBe(status);
  });

  it("names the failing field in details", async () => {
    const error = (await readJsonBody(post('{"text":5}'), schema, 100).catch((e: unknown) => e)) as AppError;
    expect(error.details).toEqual([expect.objectContaining({ path: "text" })]);
  });
});
