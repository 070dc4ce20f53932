/**
 * Favourites (PRODUCT §3a): POST/DELETE /api/generations/:id/favorite star and unstar the
 * caller's own complete generations (idempotent; anyone else's id is 404, never 403), and
 * GET /api/generations?favorite=true lists only the starred ones. Rows are written directly,
 * so these tests do not depend on the engine; one test stars a generated caption end to end.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "@/e2e/support/harness/app-harness";
import type { CaptionVariant } from "@/lib/ai/types";
import type { HistoryItem } from "./history";

interface Page {
  items: HistoryItem[];
  total: number;
  limit: number;
  offset: number;
}
interface ErrorBody {
  error: { code: string; message: string; requestId: string };
}

const storeMode = process.env.TEST_REDIS_URL ? "real stores" : "embedded stores";

let seq = 0;
const nextIp = () => `198.51.100.${++seq % 250}`;

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ BREAKER_FAILURE_THRESHOLD: "1000", RATE_LIMIT_API_PER_MIN: "100000" });
});
afterAll(async () => {
  await app.close();
});
beforeEach(() => {
  app.fake.reset();
});

const VARIANTS: CaptionVariant[] = [
  {
    caption: "Who else waits all week for this light?",
    hashtags: ["#goldenhour", "#sunset"],
    hook: "question",
    checks: [{ rule: "length", status: "pass", message: "41 of 2,200 characters." }],
  },
  {
    caption: "This is the best hour of the day. No debate.",
    hashtags: ["#sunset"],
    hook: "bold_claim",
    checks: [{ rule: "hashtags", status: "warn", message: "Only 1 hashtag; 3–5 reach further." }],
  },
];

let minute = 0;
/** A generation row of the user's, each one a minute newer than the last (a stable order). */
async function insertGeneration(
  userId: string,
  status: HistoryItem["status"] = "complete",
  variants: CaptionVariant[] | null = status === "complete" ? VARIANTS : null,
): Promise<string> {
  const id = randomUUID();
  const first = variants?.[0];
  await app.db.query(
    `insert into litstatus.generations
       (id, user_id, status, mode, lang, platform, input_text, input_hash, caption, hashtags, provider, model, variants, created_at)
     values ($1, $2, $3, 'standard', 'en', 'instagram', 'sunset at the pier', 'h', $4,
             array(select jsonb_array_elements_text(($5::text)::jsonb)), 'offline', 'offline-1', ($6::text)::jsonb,
             timestamptz '2026-01-01T00:00:00Z' + make_interval(mins => $7::int))`,
    [id, userId, status, first?.caption ?? null, JSON.stringify(first?.hashtags ?? []), variants ? JSON.stringify(variants) : null, ++minute],
  );
  return id;
}

async function favoritedAt(id: string): Promise<string | null> {
  const [row] = await app.db.query<{ at: Date | string | null }>(`select favorited_at as at from litstatus.generations where id = $1`, [id]);
  return row?.at ? new Date(row.at).toISOString() : null;
}

const star = (id: string, token?: string, headers?: Record<string, string>) =>
  app.request("POST", `/api/generations/${id}/favorite`, { ip: nextIp(), token, headers });
const unstar = (id: string, token?: string) => app.request("DELETE", `/api/generations/${id}/favorite`, { ip: nextIp(), token });

async function list(token: string, query = ""): Promise<{ status: number; body: Page & ErrorBody }> {
  const res = await app.request("GET", `/api/generations${query}`, { token, ip: nextIp() });
  return { status: res.status, body: (await res.json()) as Page & ErrorBody };
}

async function expectError(res: Response, status: number, code: string): Promise<ErrorBody["error"]> {
  const body = (await res.json()) as ErrorBody;
  expect({ status: res.status, code: body.error?.code }).toEqual({ status, code });
  expect(body.error.requestId).toBe(res.headers.get("x-request-id"));
  return body.error;
}

describe(`favourites (${storeMode})`, () => {
  let alice: { userId: string; token: string };
  let bob: { userId: string; token: string };

  beforeAll(async () => {
    alice = await app.signUp();
    bob = await app.signUp();
  });

  it("stars and unstars, both idempotent; starring again keeps the first star's time", async () => {
    const id = await insertGeneration(alice.userId);
    const first = await star(id, alice.token);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ id, favorite: true });
    const starredAt = await favoritedAt(id);
    expect(starredAt).not.toBeNull();

    const again = await star(id, alice.token);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ id, favorite: true });
    expect(await favoritedAt(id)).toBe(starredAt);

    const item = (await (await app.request("GET", `/api/generations/${id}`, { ip: nextIp(), token: alice.token })).json()) as HistoryItem;
    expect(item.favorite).toBe(true);

    for (let i = 0; i < 2; i++) {
      const res = await unstar(id, alice.token);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ id, favorite: false });
      expect(await favoritedAt(id)).toBeNull();
    }
    const after = (await (await app.request("GET", `/api/generations/${id}`, { ip: nextIp(), token: alice.token })).json()) as HistoryItem;
    expect(after.favorite).toBe(false);
  });

  it("owner only: someone else's id is 404 for both methods, and their star is untouched", async () => {
    const bobs = await insertGeneration(bob.userId);
    await expectError(await star(bobs, alice.token), 404, "not_found");
    expect(await favoritedAt(bobs)).toBeNull();

    expect((await star(bobs, bob.token)).status).toBe(200);
    const starredAt = await favoritedAt(bobs);
    await expectError(await unstar(bobs, alice.token), 404, "not_found");
    expect(await favoritedAt(bobs)).toBe(starredAt);
    expect((await list(alice.token, "?favorite=true")).body.items.map((i) => i.id)).not.toContain(bobs);

    // The same answer as an id that does not exist at all.
    await expectError(await star(randomUUID(), alice.token), 404, "not_found");
    await expectError(await unstar(randomUUID(), alice.token), 404, "not_found");
  });

  it("guests get 401, and nothing is starred", async () => {
    const id = await insertGeneration(alice.userId);
    await expectError(await star(id), 401, "unauthorized");
    await expectError(await unstar(id), 401, "unauthorized");
    await expectError(await star(id, "not-a-token"), 401, "unauthorized");
    expect(await favoritedAt(id)).toBeNull();
  });

  it.each(["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g", "%27%20or%201%3D1"])(
    "malformed id %s → 404, as GET /api/generations/:id answers",
    async (id) => {
      await expectError(await star(id, alice.token), 404, "not_found");
      await expectError(await unstar(id, alice.token), 404, "not_found");
    },
  );

  it("a cross-site star is refused (403) and changes nothing", async () => {
    const id = await insertGeneration(alice.userId);
    await expectError(await star(id, alice.token, { origin: "https://evil.example", "sec-fetch-site": "cross-site" }), 403, "forbidden");
    expect(await favoritedAt(id)).toBeNull();
  });

  it.each(["pending", "failed"] as const)("a %s generation cannot be starred: 400 with a clear message", async (status) => {
    const id = await insertGeneration(alice.userId, status);
    const error = await expectError(await star(id, alice.token), 400, "invalid_input");
    expect(error.message).toBe("Only finished captions can be starred.");
    expect(await favoritedAt(id)).toBeNull();
    // Unstarring has nothing to refuse.
    expect(await (await unstar(id, alice.token)).json()).toEqual({ id, favorite: false });
  });

  it("other methods are 405 with Allow", async () => {
    const id = await insertGeneration(alice.userId);
    for (const method of ["GET", "PUT", "PATCH"]) {
      const res = await app.request(method, `/api/generations/${id}/favorite`, { ip: nextIp(), token: alice.token });
      expect({ method, status: res.status, allow: res.headers.get("allow") }).toEqual({ method, status: 405, allow: "POST, DELETE, OPTIONS" });
    }
  });

  describe("the history filter", () => {
    let carol: { userId: string; token: string };
    /** Carol's generations, oldest first: five complete, one failed, one pending. */
    const ids: string[] = [];
    const starred: string[] = [];

    beforeAll(async () => {
      carol = await app.signUp();
      for (let i = 0; i < 5; i++) ids.push(await insertGeneration(carol.userId));
      ids.push(await insertGeneration(carol.userId, "failed"));
      ids.push(await insertGeneration(carol.userId, "pending"));
      // Starred out of order: the list still follows created_at, not the star's time.
      for (const i of [3, 0, 1]) {
        expect((await star(ids[i]!, carol.token)).status).toBe(200);
        starred.push(ids[i]!);
      }
    });

    it("favorite=true lists only the starred ones, newest first, with their total", async () => {
      const { status, body } = await list(carol.token, "?favorite=true");
      expect(status).toBe(200);
      expect(body.items.map((i) => i.id)).toEqual([ids[3], ids[1], ids[0]]);
      expect(body.total).toBe(3);
      expect(body.items.every((i) => i.favorite)).toBe(true);
    });

    it("favorite=false (or absent) lists everything, each with its star", async () => {
      for (const query of ["", "?favorite=false"]) {
        const { body } = await list(carol.token, query);
        expect(body.total).toBe(7);
        expect(body.items.filter((i) => i.favorite).map((i) => i.id)).toEqual([ids[3], ids[1], ids[0]]);
      }
    });

    it("combines with status and paging", async () => {
      expect((await list(carol.token, "?favorite=true&status=complete")).body).toMatchObject({ total: 3 });
      expect((await list(carol.token, "?favorite=true&status=failed")).body).toMatchObject({ items: [], total: 0 });
      const first = await list(carol.token, "?favorite=true&limit=2");
      const second = await list(carol.token, "?favorite=true&limit=2&offset=2");
      expect(first.body).toMatchObject({ total: 3, limit: 2, offset: 0 });
      expect(first.body.items.map((i) => i.id)).toEqual([ids[3], ids[1]]);
      expect(second.body).toMatchObject({ total: 3, limit: 2, offset: 2 });
      expect(second.body.items.map((i) => i.id)).toEqual([ids[0]]);
    });

    it.each(["?favorite=yes", "?favorite=1", "?favorite=", "?favorite=TRUE"])("bad filter %s → 400 invalid_input", async (query) => {
      await expectError(await app.request("GET", `/api/generations${query}`, { ip: nextIp(), token: carol.token }), 400, "invalid_input");
    });

    it("items carry their variants (null when there are none) and the star", async () => {
      const { body } = await list(carol.token);
      const byId = new Map(body.items.map((i) => [i.id, i]));
      expect(byId.get(ids[3]!)).toMatchObject({ favorite: true, variants: VARIANTS, caption: VARIANTS[0]!.caption, hashtags: VARIANTS[0]!.hashtags });
      expect(byId.get(ids[2]!)).toMatchObject({ favorite: false, variants: VARIANTS });
      expect(byId.get(ids[5]!)).toMatchObject({ status: "failed", favorite: false, variants: null });
      const one = (await (await app.request("GET", `/api/generations/${ids[0]}`, { ip: nextIp(), token: carol.token })).json()) as HistoryItem;
      expect(one).toMatchObject({ favorite: true, variants: VARIANTS });
    });

    it("deleting a generation takes it out of the favourites", async () => {
      expect((await app.request("DELETE", `/api/generations/${ids[1]}`, { ip: nextIp(), token: carol.token })).status).toBe(200);
      const { body } = await list(carol.token, "?favorite=true");
      expect(body.items.map((i) => i.id)).toEqual([ids[3], ids[0]]);
      expect(body.total).toBe(2);
      await expectError(await star(ids[1]!, carol.token), 404, "not_found");
    });
  });

  it("a generated caption can be starred and is listed with its variants", async () => {
    const dave = await app.signUp();
    const res = await app.generate({ text: "first swim of the summer", mode: "standard", lang: "en", platform: "instagram", variants: 2 }, { token: dave.token, ip: nextIp() });
    expect(res.status).toBe(200);
    const generated = (await res.json()) as { id: string; caption: string; variants: CaptionVariant[] };
    expect((await star(generated.id, dave.token)).status).toBe(200);
    const { body } = await list(dave.token, "?favorite=true");
    expect(body.items.map((i) => i.id)).toEqual([generated.id]);
    expect(body.items[0]).toMatchObject({ favorite: true, caption: generated.caption, variants: generated.variants });
  });
});
