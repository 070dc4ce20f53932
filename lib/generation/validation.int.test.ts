/**
 * POST /api/generate input handling: every bound and bad type answers 400/403/413/415 with the
 * error envelope (never a 500, never a model call, never quota), images are checked by their
 * bytes, and content safety (local deny list, then moderation) blocks before anything is
 * shown or charged.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getEnv } from "@/lib/env";
import { startTestApp, type RequestOptions, type TestApp } from "@/e2e/support/harness/app-harness";
import { blockAddress } from "@/lib/security/blocklist";
import { envForBlock } from "@/e2e/support/harness/env-block";

interface ErrorBody {
  error: { code: string; message: string; requestId: string; details?: { path: string; message: string }[] };
}
interface GenerateBody {
  id: string;
  caption: string;
  detectedObject?: string;
  quota: { used: number };
}
interface QuotaBody {
  quota: { used: number };
}

const storeMode = process.env.TEST_REDIS_URL ? "real stores" : "embedded stores";

let seq = 0;
const nextIp = () => `198.51.100.${++seq}`;

/** One app for the file: an embedded app costs seconds of database start-up. */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});
beforeEach(() => {
  app.fake.reset();
});


const valid = { text: "a quiet morning with coffee", mode: "standard", lang: "en" };

const post = (options: RequestOptions) => app.request("POST", "/api/generate", options);

/** The envelope with this status and code; nothing reached the model, nothing was charged. */
async function expectRejected(res: Response, status: number, code: string, ip?: string): Promise<ErrorBody> {
  const body = (await res.json()) as ErrorBody;
  expect({ status: res.status, code: body.error?.code }).toEqual({ status, code });
  expect(typeof body.error.message).toBe("string");
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(body.error.requestId).toBe(res.headers.get("x-request-id"));
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(app.fake.stats().chatCalls).toBe(0);
  if (ip) expect(await guestUsed(ip)).toBe(0);
  return body;
}

async function guestUsed(ip: string): Promise<number> {
  return ((await (await app.request("GET", "/api/quota", { ip })).json()) as QuotaBody).quota.used;
}

/** A real 1x1 PNG. */
const TINY_PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);
/** A real 1x1 GIF (not an accepted type). */
const TINY_GIF = Buffer.from("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==", "base64");

function form(fields: Record<string, string>, image?: { bytes: Uint8Array; name: string; type: string } | string): FormData {
  const data = new FormData();
  for (const [key, value] of Object.entries(fields)) data.append(key, value);
  if (typeof image === "string") data.append("image", image);
  else if (image) data.append("image", new Blob([new Uint8Array(image.bytes)], { type: image.type }), image.name);
  return data;
}

/** `size` bytes that start like a PNG. */
function pngLike(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes.set(TINY_PNG.subarray(0, 8));
  return bytes;
}

describe(`POST /api/generate validation (${storeMode})`, () => {
  describe("JSON fields", () => {
    const cases: { name: string; body: unknown; path?: string }[] = [
      { name: "missing text", body: { mode: "standard", lang: "en" }, path: "text" },
      { name: "empty text", body: { ...valid, text: "" }, path: "text" },
      { name: "whitespace-only text", body: { ...valid, text: " \n\t\u3000 " }, path: "text" },
      { name: "2001 characters", body: { ...valid, text: "a".repeat(2001) }, path: "text" },
      { name: "2001 emoji", body: { ...valid, text: "😀".repeat(2001) }, path: "text" },
      { name: "null text", body: { ...valid, text: null }, path: "text" },
      { name: "number text", body: { ...valid, text: 123 }, path: "text" },
      { name: "array text", body: { ...valid, text: ["a", "b"] }, path: "text" },
      { name: "unknown mode", body: { ...valid, mode: "funny" }, path: "mode" },
      { name: "missing mode", body: { text: "x", lang: "en" }, path: "mode" },
      { name: "mode with different case", body: { ...valid, mode: "Standard" }, path: "mode" },
      { name: "unknown lang", body: { ...valid, lang: "fr" }, path: "lang" },
      { name: "missing lang", body: { text: "x", mode: "standard" }, path: "lang" },
      { name: "unknown platform", body: { ...valid, platform: "myspace" }, path: "platform" },
      { name: "empty platform", body: { ...valid, platform: "" }, path: "platform" },
      { name: "string regenerate", body: { ...valid, regenerate: "true" }, path: "regenerate" },
      { name: "number regenerate", body: { ...valid, regenerate: 1 }, path: "regenerate" },
      { name: "unknown field", body: { ...valid, temperature: 2 } },
      { name: "JSON array body", body: [valid] },
      { name: "JSON string body", body: "hello" },
      { name: "JSON null body", body: null },
    ];
    it.each(cases)("$name → 400 invalid_input", async ({ body, path }) => {
      const ip = nextIp();
      const res = await post({ body: JSON.stringify(body), headers: { "content-type": "application/json" }, ip });
      const error = await expectRejected(res, 400, "invalid_input", ip);
      if (path) expect(error.error.details?.map((d) => d.path)).toContain(path);
    });

    it("malformed JSON → 400 invalid_input", async () => {
      for (const raw of ['{"text": "unterminated', "{text: 'js object'}", "", "\u0000"]) {
        const res = await post({ body: raw, headers: { "content-type": "application/json" }, ip: nextIp() });
        await expectRejected(res, 400, "invalid_input");
      }
    });

    it("exactly 2000 characters is accepted, counting an emoji as one character, after trimming", async () => {
      for (const text of ["a".repeat(2000), "😀".repeat(2000), `   ${"字".repeat(2000)}\n`]) {
        const res = await app.generate({ ...valid, text }, { ip: nextIp() });
        expect(res.status).toBe(200);
      }
      // A signed-in user's 2000-emoji text is stored for their history (the column allows 2000 characters).
      const { userId, token } = await app.signUp();
      const text = "🔥".repeat(2000);
      const res = await app.generate({ ...valid, text }, { ip: nextIp(), token });
      expect(res.status).toBe(200);
      await app.flush();
      const [row] = await app.db.query<{ n: number; status: string }>(
        `select char_length(input_text)::int as n, status from litstatus.generations where user_id = $1`,
        [userId],
      );
      expect(row).toEqual({ n: 2000, status: "complete" });
    });

    it("every optional field and platform is accepted", async () => {
      for (const platform of ["instagram", "tiktok", "x", "linkedin", "xiaohongshu"]) {
        const res = await app.generate({ ...valid, text: `platform test ${platform}`, platform, regenerate: false }, { ip: nextIp() });
        expect(res.status).toBe(200);
      }
      const res = await post({
        body: JSON.stringify({ ...valid, text: "charset parameter" }),
        headers: { "content-type": "application/json; charset=utf-8" },
        ip: nextIp(),
      });
      expect(res.status).toBe(200);
    });
  });

  describe("body type and size", () => {
    it("no content type → 415", async () => {
      const ip = nextIp();
      const res = await post({ body: new TextEncoder().encode(JSON.stringify(valid)), ip });
      expect(res.headers.get("content-type")).not.toBeNull(); // the response's, not the request's
      await expectRejected(res, 415, "unsupported_media_type", ip);
    });

    it("text/plain, form-urlencoded and a JSON-looking type → 415", async () => {
      for (const type of ["text/plain", "application/x-www-form-urlencoded", "application/jsonp", "application/vnd.api+json"]) {
        const ip = nextIp();
        const res = await post({ body: JSON.stringify(valid), headers: { "content-type": type }, ip });
        await expectRejected(res, 415, "unsupported_media_type", ip);
      }
    });

    it("a JSON body over MAX_JSON_BODY_BYTES → 413 (checked while reading, without Content-Length)", async () => {
      const ip = nextIp();
      const body = JSON.stringify({ ...valid, text: "a".repeat(getEnv().MAX_JSON_BODY_BYTES) });
      const res = await post({ body, headers: { "content-type": "application/json" }, ip });
      await expectRejected(res, 413, "payload_too_large", ip);
    });

    it("a declared Content-Length over the limit → 413 before reading", async () => {
      const res = await post({
        body: JSON.stringify(valid),
        headers: { "content-type": "application/json", "content-length": String(10 * 1024 * 1024) },
        ip: nextIp(),
      });
      await expectRejected(res, 413, "payload_too_large");
    });
  });

  describe("multipart and images", () => {
    const fields = { text: "my cat on the sofa", mode: "standard", lang: "en" };
    const png = { bytes: TINY_PNG, name: "cat.png", type: "image/png" };

    it("a multipart request without an image works for anyone", async () => {
      const res = await post({ body: form({ ...fields, platform: "", regenerate: "on" }), ip: nextIp() });
      expect(res.status).toBe(200);
    });

    it("an image from a guest or a free user → 403 pro_required, nothing charged", async () => {
      const ip = nextIp();
      await expectRejected(await post({ body: form(fields, png), ip }), 403, "pro_required", ip);
      const { userId, token } = await app.signUp(undefined, "free");
      await expectRejected(await post({ body: form(fields, png), ip: nextIp(), token }), 403, "pro_required");
      const ledger = await app.db.query(`select 1 from litstatus.usage_ledger where user_id = $1`, [userId]);
      expect(ledger).toHaveLength(0);
    });

    it("a Pro user's real PNG is sent to the vision model", async () => {
      const { token } = await app.signUp(undefined, "pro");
      const res = await post({ body: form(fields, png), ip: nextIp(), token });
      expect(res.status).toBe(200);
      const body = (await res.json()) as GenerateBody;
      expect(body.caption.length).toBeGreaterThan(0);
      const sent = JSON.stringify(app.fake.stats().lastChatRequest);
      expect(sent).toContain('"type":"image_url"');
      expect(sent).toContain("data:image/png;base64,");
    });

    it("the type comes from the bytes: a .png that is a GIF or garbage → 415", async () => {
      const { token } = await app.signUp(undefined, "pro");
      for (const bytes of [TINY_GIF, Buffer.from("definitely not an image, just text"), new Uint8Array([0x89, 0x50, 0x4e])]) {
        const res = await post({ body: form(fields, { bytes, name: "photo.png", type: "image/png" }), ip: nextIp(), token });
        await expectRejected(res, 415, "unsupported_media_type");
      }
    });

    it("an image over 5 MB → 413 (just over, and far over the body cap)", async () => {
      const { token } = await app.signUp(undefined, "pro");
      for (const size of [5 * 1024 * 1024 + 1, 8 * 1024 * 1024]) {
        const res = await post({ body: form(fields, { bytes: pngLike(size), name: "big.png", type: "image/png" }), ip: nextIp(), token });
        await expectRejected(res, 413, "payload_too_large");
      }
    });

    it("an `image` field that is not a file → 400; an unexpected file field → 400; bad fields → 400", async () => {
      const { token } = await app.signUp(undefined, "pro");
      await expectRejected(await post({ body: form(fields, "not-a-file"), ip: nextIp(), token }), 400, "invalid_input");
      const extraFile = form(fields);
      extraFile.append("attachment", new Blob([TINY_PNG], { type: "image/png" }), "x.png");
      await expectRejected(await post({ body: extraFile, ip: nextIp(), token }), 400, "invalid_input");
      await expectRejected(await post({ body: form({ ...fields, mode: "loud" }), ip: nextIp(), token }), 400, "invalid_input");
      await expectRejected(await post({ body: form({ ...fields, regenerate: "yes" }), ip: nextIp(), token }), 400, "invalid_input");
      await expectRejected(await post({ body: form({ mode: "standard", lang: "en" }), ip: nextIp(), token }), 400, "invalid_input");
    });

    it("a broken multipart body → 400", async () => {
      const res = await post({
        body: "--xyz\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nunterminated",
        headers: { "content-type": "multipart/form-data; boundary=xyz" },
        ip: nextIp(),
      });
      await expectRejected(res, 400, "invalid_input");
    });
  });

  describe("blocklisted addresses", () => {
    const block = (ip: string) => blockAddress({ target: ip, reason: "validation test", ttlSeconds: 600 });

    it("are refused with 403 ip_blocked before any model call, with a security event", async () => {
      const ip = nextIp();
      await block(ip);
      // (No quota read-back: a blocked address is refused on every route, /api/quota included.)
      await expectRejected(await app.generate({ ...valid, text: "from a blocked address" }, { ip }), 403, "ip_blocked");
      await app.flush();
      const events = await app.db.query<{ event_type: string }>(
        `select event_type from litstatus.security_events where ip = $1::inet`,
        [ip],
      );
      expect(events.map((e) => e.event_type)).toContain("ip_blocked");
    });

    it("are refused a cached caption too", async () => {
      const input = { ...valid, text: "cached before the block" };
      expect((await app.generate(input, { ip: nextIp() })).status).toBe(200);
      const ip = nextIp();
      await block(ip);
      const res = await app.generate(input, { ip });
      expect(res.status).toBe(403);
    });

    it("are refused when joining an identical request already in flight", async () => {
      app.fake.set({ latencyMs: 300 });
      const input = { ...valid, text: "a flight a blocked address tries to join" };
      const leader = app.generate(input, { ip: nextIp() });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const ip = nextIp();
      await block(ip);
      const joined = await app.generate(input, { ip });
      const body = (await joined.json()) as ErrorBody;
      expect({ status: joined.status, code: body.error?.code }).toEqual({ status: 403, code: "ip_blocked" });
      expect((await leader).status).toBe(200);
      expect(app.fake.stats().chatCalls).toBe(1);
    });
  });

  describe("Idempotency-Key header", () => {
    it.each([
      ["contains a space", "has space"],
      ["too long", "k".repeat(201)],
      ["empty", ""],
      ["non-ASCII (latin-1)", "cl\u00e9"],
    ])("%s → 400", async (_name, key) => {
      const ip = nextIp();
      const res = await app.generate(valid, { ip, headers: { "idempotency-key": key } });
      await expectRejected(res, 400, "invalid_input", ip);
    });

    it("200 printable ASCII characters is accepted", async () => {
      const res = await app.generate({ ...valid, text: "long key" }, { ip: nextIp(), headers: { "idempotency-key": "k".repeat(200) } });
      expect(res.status).toBe(200);
    });
  });

  describe("content safety", () => {
    interface EventRow {
      event_type: string;
      source: string | null;
    }
    async function safetyEvents(ip: string): Promise<EventRow[]> {
      await app.flush();
      return app.db.query<EventRow>(
        `select event_type, meta->>'source' as source from litstatus.security_events where ip = $1::inet order by id`,
        [ip],
      );
    }

    it("the local deny list blocks before any model call or quota: 400 content_blocked + security event", async () => {
      for (const text of ["kill yourself", "you should KILL---YOURSELF today", "please kill_yourself", "ｋ1ll ｙｏｕｒｓｅｌｆ"]) {
        const ip = nextIp();
        const res = await app.generate({ ...valid, text }, { ip });
        await expectRejected(res, 400, "content_blocked", ip);
        expect(app.fake.stats().moderationCalls).toBe(0);
        expect(await safetyEvents(ip)).toEqual([{ event_type: "content_safety_violation", source: "denylist" }]);
      }
      // Whole words only.
      expect((await app.generate({ ...valid, text: "what skill yourselfie needs" }, { ip: nextIp() })).status).toBe(200);
    });

    it("moderation flags → 400 content_blocked, the reserved quota is refunded, nothing is cached", async () => {
      const ip = nextIp();
      const input = { ...valid, text: "a caption about forbidden-term things" };
      const res = await app.generate(input, { ip });
      const body = (await res.json()) as ErrorBody;
      expect({ status: res.status, code: body.error.code }).toEqual({ status: 400, code: "content_blocked" });
      expect(app.fake.stats().moderationCalls).toBe(1);
      expect(await guestUsed(ip)).toBe(0);
      expect(await safetyEvents(ip)).toEqual([{ event_type: "content_safety_violation", source: "moderation" }]);
      // Blocked again, not served from a cache.
      const again = await app.generate(input, { ip: nextIp() });
      expect(again.status).toBe(400);

      const { userId, token } = await app.signUp();
      const userRes = await app.generate({ ...input, text: "forbidden-term from a user" }, { ip: nextIp(), token });
      expect(userRes.status).toBe(400);
      const [usage] = await app.db.query<{ used: number }>(`select used from litstatus.usage_daily where user_id = $1`, [userId]);
      expect(usage?.used ?? 0).toBe(0);
    });

    describe("with MODERATION=off", () => {
      envForBlock({ MODERATION: "off" });
      it("the same text is answered, without a moderation call", async () => {
        const ip = nextIp();
        const res = await app.generate({ ...valid, text: "a caption about forbidden-term things, unmoderated" }, { ip });
        expect(res.status).toBe(200);
        expect(app.fake.stats().moderationCalls).toBe(0);
        expect(await guestUsed(ip)).toBe(1);
      });

      it("the local deny list still applies", async () => {
        const ip = nextIp();
        await expectRejected(await app.generate({ ...valid, text: "kill yourself" }, { ip }), 400, "content_blocked", ip);
      });
    });
  });
});
