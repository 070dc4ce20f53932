import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "@/e2e/support/harness/app-harness";
import type { SqlParam } from "@/lib/db/types";

interface GenerateBody {
  id: string;
  caption: string;
  hashtags: string[];
  cached: boolean;
  provider: string;
  model: string;
  mode: string;
  lang: string;
  quota: { plan: string; limit: number; used: number; remaining: number; resetAt: string };
}
interface ErrorBody {
  error: { code: string; message: string; requestId: string };
}

let app: TestApp;
let seq = 0;
/** A fresh guest address per test, so quotas never leak between tests. */
const nextIp = () => `198.51.100.${++seq}`;

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});
beforeEach(() => {
  app.fake.reset();
});

const streamed = process.env.TEST_GENERATE_PATH === "sse";

describe(`POST /api/generate (${process.env.TEST_REDIS_URL ? "real stores" : "embedded stores"}, ${streamed ? "streamed" : "JSON"})`, () => {
  it("answers with a caption, the quota and the contract headers", async () => {
    const ip = nextIp();
    const res = await app.generate({ text: "sunset at the beach with friends", mode: "standard", lang: "en" }, { ip });
    expect(res.status).toBe(200);
    const body = (await res.json()) as GenerateBody;
    expect(body).toMatchObject({ mode: "standard", lang: "en", cached: false, provider: "openai", model: "gpt-4o-mini" });
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.caption.length).toBeGreaterThan(0);
    expect(body.hashtags.every((tag) => tag.startsWith("#"))).toBe(true);
    expect(body.quota).toMatchObject({ plan: "guest", limit: 3, used: 1, remaining: 2 });
    expect(new Date(body.quota.resetAt).getUTCHours()).toBe(0);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    // A stream's headers go out before the model is done: its timing covers admission only.
    expect(res.headers.get("server-timing")).toMatch(streamed ? /kv;dur=.*total;dur=/ : /kv;dur=.*model;dur=.*total;dur=/);
    expect(app.fake.stats().chatCalls).toBe(1);
  });

  it("serves a cache hit without spending quota; regenerate makes a new call", async () => {
    const ip = nextIp();
    const input = { text: "coffee and rain on a monday", mode: "savage", lang: "en" };
    const first = (await (await app.generate(input, { ip })).json()) as GenerateBody;
    const second = (await (await app.generate(input, { ip })).json()) as GenerateBody;
    expect(second.cached).toBe(true);
    expect(second.caption).toBe(first.caption);
    expect(second.quota.used).toBe(1);
    expect(app.fake.stats().chatCalls).toBe(1);
    const regenerated = (await (await app.generate({ ...input, regenerate: true }, { ip })).json()) as GenerateBody;
    expect(regenerated.cached).toBe(false);
    expect(regenerated.quota.used).toBe(2);
    expect(app.fake.stats().chatCalls).toBe(2);
  });

  it("coalesces 20 identical concurrent misses into one model call", async () => {
    app.fake.set({ latencyMs: 200 });
    const input = { text: "single flight test dog park", mode: "rizz", lang: "en" };
    const results = await Promise.all(Array.from({ length: 20 }, () => app.generate(input, { ip: nextIp() })));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    const bodies = (await Promise.all(results.map((r) => r.json()))) as GenerateBody[];
    expect(new Set(bodies.map((b) => b.caption)).size).toBe(1);
    expect(bodies.filter((b) => !b.cached)).toHaveLength(1);
    expect(app.fake.stats().chatCalls).toBe(1);
  });

  it("200 concurrent generates on one guest quota of 3: exactly 3 succeed, 197 get 429", async () => {
    const ip = nextIp();
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => app.generate({ text: `distinct request number ${i}`, mode: "standard", lang: "en" }, { ip })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(197);
    const denied = results.find((r) => r.status === 429)!;
    expect(((await denied.json()) as ErrorBody).error.code).toBe("quota_exceeded");
    expect(Number(denied.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(app.fake.stats().chatCalls).toBeLessThanOrEqual(3);
    const quota = (await (await app.request("GET", "/api/quota", { ip })).json()) as { quota: GenerateBody["quota"] };
    expect(quota.quota).toMatchObject({ used: 3, remaining: 0 });
  });

  it("200 concurrent generates on one signed-in user's quota: exactly the limit succeed (Postgres)", async () => {
    const { token, userId } = await app.signUp();
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => app.generate({ text: `user request ${i}`, mode: "standard", lang: "en" }, { token, ip: nextIp() })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(180);
    expect(app.fake.stats().chatCalls).toBeLessThanOrEqual(20);
    const [usage] = await app.db.query<{ used: number }>(`select used from litstatus.usage_daily where user_id = $1`, [userId]);
    expect(usage?.used).toBe(20);
    const ledger = await app.db.query<{ n: number }>(
      `select count(*)::int as n from litstatus.usage_ledger where user_id = $1 and kind = 'charge'`,
      [userId],
    );
    expect(ledger[0]?.n).toBe(20);
  });

  it("GET /api/quota never spends and agrees with generate", async () => {
    const ip = nextIp();
    for (let i = 0; i < 3; i++) {
      const q = (await (await app.request("GET", "/api/quota", { ip })).json()) as { quota: GenerateBody["quota"] };
      expect(q.quota).toMatchObject({ plan: "guest", used: 0, remaining: 3 });
    }
    await app.generate({ text: "quota agreement", mode: "standard", lang: "zh" }, { ip });
    const q = (await (await app.request("GET", "/api/quota", { ip })).json()) as { quota: GenerateBody["quota"] };
    expect(q.quota).toMatchObject({ used: 1, remaining: 2 });
  });

  describe("X-Session-Id: generate_success in the browser's funnel session", () => {
    interface SuccessRow {
      session_id: string | null;
      user_id: string | null;
      cached: string | null;
    }
    const successRows = async (where: string, params: SqlParam[]) => {
      await app.flush();
      return app.db.query<SuccessRow>(
        `select session_id, user_id::text as user_id, meta->>'cached' as cached
         from litstatus.funnel_events where event = 'generate_success' and ${where} order by id`,
        params,
      );
    };

    it("a valid header puts the session on the event, for a fresh answer and a cached one", async () => {
      const input = { text: "funnel session header on a fresh answer", mode: "standard", lang: "en" };
      const fresh = await app.generate(input, { ip: nextIp(), headers: { "x-session-id": "gen_session-fresh01" } });
      expect(fresh.status).toBe(200);
      expect(((await fresh.json()) as GenerateBody).cached).toBe(false);
      const hit = await app.generate(input, { ip: nextIp(), headers: { "X-Session-Id": "gen_session-cached01" } });
      expect(hit.status).toBe(200);
      expect(((await hit.json()) as GenerateBody).cached).toBe(true);
      expect(await successRows(`session_id = any($1::text[])`, [["gen_session-fresh01", "gen_session-cached01"]])).toEqual([
        { session_id: "gen_session-fresh01", user_id: null, cached: "false" },
        { session_id: "gen_session-cached01", user_id: null, cached: "true" },
      ]);
    });

    it("a signed-in user's event carries both the session and the user id", async () => {
      const { userId, token } = await app.signUp();
      const sessionId = "S".repeat(128); // the longest valid id
      const res = await app.generate({ text: "signed in with a session", mode: "rizz", lang: "zh" }, { token, headers: { "x-session-id": sessionId } });
      expect(res.status).toBe(200);
      expect(await successRows(`user_id = $1`, [userId])).toEqual([{ session_id: sessionId, user_id: userId, cached: "false" }]);
    });

    it("an absent or malformed header is ignored: 200, and the event has no session", async () => {
      const { userId, token } = await app.signUp();
      const bad = ["short", "has spaces in it", "x".repeat(129), "semi;colon-session", "ünïcode-session", ""];
      for (const [i, value] of [...bad, undefined].entries()) {
        const res = await app.generate(
          { text: `malformed session header ${i}`, mode: "standard", lang: "en" },
          { token, headers: value === undefined ? {} : { "x-session-id": value } },
        );
        expect(res.status, JSON.stringify(value)).toBe(200);
      }
      const rows = await successRows(`user_id = $1`, [userId]);
      expect(rows).toHaveLength(bad.length + 1);
      expect(rows.every((r) => r.session_id === null)).toBe(true);
    });
  });
});
