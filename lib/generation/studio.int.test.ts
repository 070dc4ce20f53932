/**
 * The caption studio through POST /api/generate (PRODUCT §3a): variants from one call and one
 * charge, the controls in validation and in the cache key, regenerate that never repeats what is
 * on screen (OpenAI and the offline provider), and a history without duplicates.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "@/e2e/support/harness/app-harness";

interface Variant {
  caption: string;
  hashtags: string[];
  hook: string;
  checks: { rule: string; status: "pass" | "warn"; message: string }[];
}
interface Body {
  id: string;
  caption: string;
  hashtags: string[];
  variants: Variant[];
  platform: string | null;
  cached: boolean;
  provider: string;
  quota: { used: number };
}
interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

let app: TestApp;
let seq = 0;
const nextIp = () => `198.51.102.${++seq}`;
const base = { mode: "standard", lang: "en" } as const;

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});
beforeEach(() => {
  app.fake.reset();
});

async function ok(res: Response): Promise<Body> {
  expect(res.status).toBe(200);
  return (await res.json()) as Body;
}

describe(`the caption studio (${process.env.TEST_REDIS_URL ? "real stores" : "embedded stores"})`, () => {
  it("returns that many variants from one model call and one charge; the top level is the first", async () => {
    const { userId, token } = await app.signUp();
    const body = await ok(await app.generate({ ...base, text: "three takes on a rainy market", platform: "x", variants: 3 }, { token }));
    expect(body.variants).toHaveLength(3);
    expect(body.caption).toBe(body.variants[0]!.caption);
    expect(body.hashtags).toEqual(body.variants[0]!.hashtags);
    expect(body.platform).toBe("x");
    expect(new Set(body.variants.map((v) => v.hook)).size).toBe(3);
    expect(new Set(body.variants.map((v) => v.caption)).size).toBe(3);
    for (const v of body.variants) expect(v.checks.map((c) => c.rule)).toEqual(expect.arrayContaining(["length", "hashtags", "band", "emoji"]));
    expect(app.fake.stats().chatCalls).toBe(1);
    expect(await app.userUsage(userId)).toEqual({ used: 1, charges: 1, refunds: 0 });
    // The row keeps every variant.
    const [row] = await app.db.query<{ variants: Variant[]; caption: string }>(`select variants, caption from litstatus.generations where id = $1`, [body.id]);
    expect(row?.variants).toEqual(body.variants);
    expect(row?.caption).toBe(body.caption);
  });

  it("a guest's batched row keeps the variants too", async () => {
    const body = await ok(await app.generate({ ...base, text: "guest variants are recorded", variants: 2 }, { ip: nextIp() }));
    await app.flush();
    const [row] = await app.db.query<{ variants: Variant[] }>(`select variants from litstatus.generations where id = $1`, [body.id]);
    expect(row?.variants).toEqual(body.variants);
  });

  it("the controls shape the prompt and are part of the cache key", async () => {
    const ip = nextIp();
    const text = "controls change the answer";
    await ok(await app.generate({ ...base, text, emoji: "none", length: "short", cta: true, keywords: ["market", "Rain"] }, { ip }));
    const system = ((app.fake.stats().lastChatRequest as { messages: { content: string }[] }).messages[0]!.content);
    expect(system).toContain("Emoji: none at all.");
    expect(system).toContain("Length: short");
    expect(system).toContain("call to action");
    expect(system).toContain('"market", "Rain"');
    // The same controls: a hit. Any other control: a new call.
    expect((await ok(await app.generate({ ...base, text, emoji: "none", length: "short", cta: true, keywords: ["market", "Rain"] }, { ip }))).cached).toBe(true);
    const other = await ok(await app.generate({ ...base, text, emoji: "many", length: "short", cta: true, keywords: ["market", "Rain"] }, { ip }));
    expect(other.cached).toBe(false);
    expect(app.fake.stats().chatCalls).toBe(2);
    // A platform's default length is the same request as naming it.
    await ok(await app.generate({ ...base, text, platform: "linkedin" }, { ip: nextIp() }));
    expect((await ok(await app.generate({ ...base, text, platform: "linkedin", length: "medium" }, { ip: nextIp() }))).cached).toBe(true);
  });

  it.each([
    ["variants 0", { variants: 0 }],
    ["variants 4", { variants: 4 }],
    ["variants 1.5", { variants: 1.5 }],
    ["variants as a string", { variants: "2" }],
    ["unknown emoji", { emoji: "lots" }],
    ["unknown length", { length: "epic" }],
    ["cta as a string", { cta: "yes" }],
    ["six keywords", { keywords: ["a", "b", "c", "d", "e", "f"] }],
    ["a 31-character keyword", { keywords: ["k".repeat(31)] }],
    ["an empty keyword", { keywords: ["  "] }],
    ["keywords as a string", { keywords: "a,b" }],
    ["threads is a platform, tumblr is not", { platform: "tumblr" }],
  ])("%s → 400 invalid_input naming the field", async (_name, extra) => {
    const res = await app.generate({ ...base, text: "validation of the controls", ...extra }, { ip: nextIp() });
    expect(res.status).toBe(400);
    const body = (await res.json()) as ErrorBody;
    expect(body.error.code).toBe("invalid_input");
    expect(JSON.stringify(body.error.details)).toContain(Object.keys(extra)[0]!);
    expect(app.fake.stats().chatCalls).toBe(0);
  });

  it("accepts Threads and the controls in a multipart form (keywords comma-separated)", async () => {
    const form = new FormData();
    for (const [k, v] of Object.entries({ text: "a form with every control", mode: "savage", lang: "en", platform: "threads", variants: "2", emoji: "many", length: "short", cta: "true", keywords: "alpha, beta" })) {
      form.set(k, v);
    }
    const body = await ok(await app.request("POST", "/api/generate", { ip: nextIp(), body: form, headers: { origin: "http://litstatus.test" } }));
    expect(body.variants).toHaveLength(2);
    expect(body.platform).toBe("threads");
    // Threads takes one hashtag.
    expect(body.variants.every((v) => v.hashtags.length === 1)).toBe(true);
    expect((app.fake.stats().lastChatRequest as { messages: { content: string }[] }).messages[0]!.content).toContain('"alpha", "beta"');
  });

  it("regenerate shows captions different from the ones on screen, is charged, and history has no duplicates", async () => {
    const { userId, token } = await app.signUp();
    const input = { ...base, text: "regenerate until it is right", variants: 2 };
    const first = await ok(await app.generate(input, { token }));
    // Asking again is a hit, and the history keeps one entry for it (the same id answers).
    const again = await ok(await app.generate(input, { token }));
    expect(again.cached).toBe(true);
    expect(again.id).toBe(first.id);
    const seen = new Set(first.variants.map((v) => v.caption));
    let shown = first;
    for (let i = 0; i < 3; i += 1) {
      const next = await ok(await app.generate({ ...input, regenerate: true }, { token }));
      expect(next.cached).toBe(false);
      for (const v of next.variants) expect(shown.variants.map((s) => s.caption)).not.toContain(v.caption);
      // The prompt named what was on screen.
      const system = (app.fake.stats().lastChatRequest as { messages: { content: string }[] }).messages[0]!.content;
      for (const v of shown.variants) expect(system).toContain(JSON.stringify(v.caption));
      for (const v of next.variants) seen.add(v.caption);
      shown = next;
    }
    expect(seen.size).toBe(8);
    expect(await app.userUsage(userId)).toMatchObject({ used: 4, charges: 4 });
    // The latest regenerate is what the cache now answers.
    const hit = await ok(await app.generate(input, { token }));
    expect(hit.cached).toBe(true);
    expect(hit.caption).toBe(shown.caption);
    expect(hit.id).toBe(shown.id);
    // Every request left a row (the console counts them); history lists each answer once.
    const rows = await app.db.query<{ caption: string }>(`select caption from litstatus.generations where user_id = $1`, [userId]);
    expect(rows).toHaveLength(6);
    const history = (await (await app.request("GET", "/api/generations", { token })).json()) as { items: { caption: string }[]; total: number };
    expect(history.total).toBe(4);
    expect(new Set(history.items.map((r) => r.caption)).size).toBe(4);
  });
});

describe("the offline provider through the engine", () => {
  let offline: TestApp;
  beforeAll(async () => {
    offline = await startTestApp({ OPENAI_API_KEY: "" });
  });
  afterAll(async () => {
    await offline.close();
  });

  it("answers in demo mode with whole, rule-keeping variants; regenerate never repeats the caption on screen", async () => {
    const { token } = await offline.signUp();
    const input = { mode: "rizz", lang: "en", text: "first warm day of spring at the lake", platform: "instagram", variants: 3 };
    let shown = (await (await offline.generate(input, { token })).json()) as Body;
    expect(shown.provider).toBe("offline");
    expect(shown.variants).toHaveLength(3);
    for (const v of shown.variants) {
      expect(v.caption).toMatch(/[.!?。！？…]["'”’)]?\s*(\p{Extended_Pictographic}\uFE0F?\s*)*$/u);
      expect(v.checks.filter((c) => c.status === "warn")).toEqual([]);
    }
    for (let i = 0; i < 5; i += 1) {
      const next = (await (await offline.generate({ ...input, regenerate: true }, { token })).json()) as Body;
      for (const v of next.variants) expect(shown.variants.map((s) => s.caption)).not.toContain(v.caption);
      shown = next;
    }
    expect(offline.fake.stats().chatCalls).toBe(0);
  });
});
