import { beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { applyTestEnv } from "@/e2e/support/harness/env";
import { readJsonBody } from "./body";
import { AppError } from "@/lib/errors";
import { PEER_ADDRESS_HEADER, peerHeaderValue, simulatePeerAddressLayer } from "./peer-address";
import { json, methods, route, type RoutePolicy } from "./route";

const OPEN: RoutePolicy = { auth: "anyone", sameOrigin: false, limit: null };

const noParams = { params: Promise.resolve({}) };

describe("route wrapper", () => {
  beforeEach(() => {
    applyTestEnv();
  });

  it("adds a request id, Server-Timing and API security headers", async () => {
    const handler = route("t", OPEN, async ({ timing }) => {
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

  it("adds its headers to a response whose headers are immutable, keeping status and body", async () => {
    const upstream = Response.redirect("https://example.test/elsewhere", 307);
    expect(() => upstream.headers.set("x-probe", "1")).toThrow(TypeError);
    const handler = route("t", OPEN, async () => upstream);
    const res = await handler(new Request("http://x/api/t"), noParams);
    expect(res.status).toBe(307);
    expect(res.headers.get("location")).toBe("https://example.test/elsewhere");
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("keeps a header the handler set itself over the API default", async () => {
    const handler = route("t", OPEN, async () => json({}, { headers: { "Referrer-Policy": "no-referrer" } }));
    const res = await handler(new Request("http://x/api/t"), noParams);
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
  });

  it("keeps a well-formed inbound X-Request-Id and replaces a hostile one", async () => {
    const handler = route("t", OPEN, async () => json({}));
    const kept = await handler(new Request("http://x", { headers: { "x-request-id": "trace-abc-123" } }), noParams);
    expect(kept.headers.get("x-request-id")).toBe("trace-abc-123");
    const replaced = await handler(new Request("http://x", { headers: { "x-request-id": "<script>" } }), noParams);
    expect(replaced.headers.get("x-request-id")).not.toBe("<script>");
  });

  it("turns AppError into the envelope with Retry-After", async () => {
    const handler = route("t", OPEN, async () => {
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
    const handler = route("t", OPEN, async () => {
      throw new Error("connection string postgres://secret@db");
    });
    const res = await handler(new Request("http://x"), noParams);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain("secret");
    expect(JSON.parse(text)).toMatchObject({ error: { code: "internal" } });
  });

  it("passes the trusted client IP (the TCP peer by default, never x-forwarded-for)", async () => {
    let seen: string | null = "unset";
    const handler = route("t", OPEN, async ({ ip }) => {
      seen = ip;
      return json({});
    });
    simulatePeerAddressLayer();
    const headers = { "x-forwarded-for": "6.6.6.6", [PEER_ADDRESS_HEADER]: peerHeaderValue("203.0.113.9") };
    await handler(new Request("http://x", { headers }), noParams);
    expect(seen).toBe("203.0.113.9");
  });

  it("awaits dynamic segment params and answers 404 for a segment that does not fit", async () => {
    const handler = route("t", { ...OPEN, params: z.object({ id: z.string().regex(/^\d+$/) }) }, async ({ params }) => json({ id: params.id }));
    const res = await handler(new Request("http://x"), { params: Promise.resolve({ id: "42" }) });
    expect(await res.json()).toEqual({ id: "42" });
    const bad = await handler(new Request("http://x"), { params: Promise.resolve({ id: "x" }) });
    expect(bad.status).toBe(404);
  });

  it("validates query and body with the policy's schemas before the handler runs", async () => {
    let calls = 0;
    const handler = route(
      "t",
      { ...OPEN, query: z.strictObject({ n: z.coerce.number().int() }), body: z.strictObject({ text: z.string().min(1) }) },
      async ({ query, body }) => {
        calls += 1;
        return json({ n: query.n, text: body.text });
      },
    );
    const post = (url: string, body: string, type = "application/json") =>
      handler(new Request(url, { method: "POST", body, headers: { "content-type": type } }), noParams);
    expect(await (await post("http://x/?n=2", '{"text":"a"}')).json()).toEqual({ n: 2, text: "a" });
    expect((await post("http://x/?n=2&extra=1", '{"text":"a"}')).status).toBe(400);
    expect((await post("http://x/?n=2", '{"text":""}')).status).toBe(400);
    expect((await post("http://x/?n=2", "{", "application/json")).status).toBe(400);
    expect((await post("http://x/?n=2", '{"text":"a"}', "text/plain")).status).toBe(415);
    expect(calls).toBe(1);
  });

  it("refuses a cross-site request on a same-origin route before reading the body", async () => {
    const handler = route("t", { ...OPEN, sameOrigin: true }, async () => json({ ok: true }));
    const cross = await handler(
      new Request("http://localhost:3000/api/t", { method: "POST", headers: { origin: "https://evil.example", "sec-fetch-site": "cross-site" } }),
      noParams,
    );
    expect(cross.status).toBe(403);
    expect(((await cross.json()) as { error: { code: string } }).error.code).toBe("forbidden");
  });

  it("answers 401 on a user route for a guest, with the envelope", async () => {
    const handler = route("t", { auth: "user", sameOrigin: false, limit: null }, async () => json({ ok: true }));
    const res = await handler(new Request("http://x/api/t"), noParams);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
  });
});

describe("methods", () => {
  beforeEach(() => {
    applyTestEnv();
  });
  const exported = methods({ POST: route("t", OPEN, async () => json({ ok: true })) });

  it("answers every undefined method with 405 in the envelope and Allow", async () => {
    for (const method of ["GET", "PUT", "PATCH", "DELETE"] as const) {
      const res = await exported[method](new Request("http://x/api/t", { method }), noParams);
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("POST, OPTIONS");
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("method_not_allowed");
    }
  });

  it("answers OPTIONS with 204 and Allow, and keeps defined handlers", async () => {
    const options = await exported.OPTIONS(new Request("http://x/api/t", { method: "OPTIONS" }), noParams);
    expect(options.status).toBe(204);
    expect(options.headers.get("allow")).toBe("POST, OPTIONS");
    expect((await exported.POST(new Request("http://x/api/t", { method: "POST" }), noParams)).status).toBe(200);
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

  it("a body the client cut off is its 400, not a lost database connection's 503", async () => {
    // What Node's server hands over when the client's connection closes mid-body.
    const cutOff = () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"text":'));
          controller.error(Object.assign(new Error("aborted"), { code: "ECONNRESET" }));
        },
      });
    const req = () => new Request("http://x", { method: "POST", body: cutOff(), headers: { "content-type": "application/json" }, duplex: "half" } as RequestInit);
    const error = await readJsonBody(req(), schema, 100).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("invalid_input");
    const handler = route("t", { auth: "anyone", sameOrigin: false, limit: null, body: schema }, async () => json({ ok: true }));
    expect((await handler(req())).status).toBe(400);
  });

  it("names the failing field in details", async () => {
    const error = (await readJsonBody(post('{"text":5}'), schema, 100).catch((e: unknown) => e)) as AppError;
    expect(error.details).toEqual([expect.objectContaining({ path: "text" })]);
  });
});
