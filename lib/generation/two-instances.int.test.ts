/**
 * Records every instance sees: two app processes on one database and one Redis. A signed-in
 * user's generation (a miss, and a cached hit) is written before its answer, so on the other
 * instance, at once (no sleep, nothing flushed), it is in the history, readable by id and
 * can be rated. Real stores only (two processes cannot share an embedded database).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnAppServer, type SpawnedAppServer } from "@/e2e/support/app-server";
import { startFakeOpenAI, type FakeOpenAIServer } from "@/e2e/support/fake-openai";
import { realStoreServerEnv, TEST_AUTH_SECRET } from "@/e2e/support/harness/app-harness";
import { openTestDb, type TestDb } from "@/e2e/support/harness/stores-db";
import { openTestKv, type TestKv } from "@/e2e/support/harness/stores-kv";
import { signSessionToken } from "@/lib/auth/tokens";

interface GenerateBody {
  id: string;
  caption: string;
  cached: boolean;
}
interface HistoryBody {
  items: { id: string; caption: string | null; status: string; cached: boolean }[];
  total: number;
}

const real = Boolean(process.env.TEST_REDIS_URL && process.env.TEST_DATABASE_URL);

describe.skipIf(!real)("two app instances on one database and one Redis", () => {
  let fake: FakeOpenAIServer;
  let kv: TestKv;
  let db: TestDb;
  let a: SpawnedAppServer;
  let b: SpawnedAppServer;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    kv = await openTestKv();
    db = await openTestDb();
    const env = realStoreServerEnv({ db, kv, fake });
    [a, b] = await Promise.all([spawnAppServer({ env }), spawnAppServer({ env })]);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([a, b].filter(Boolean).map((s) => s.stop()));
    await fake?.close();
    await kv?.cleanup();
    await db?.cleanup();
  });

  async function signUp(): Promise<string> {
    const email = `two-instances-${Date.now().toString(36)}@example.test`;
    const [row] = await db.db.query<{ id: string }>(`insert into auth.users (email) values ($1) returning id`, [email]);
    return signSessionToken({ sub: row!.id, email }, TEST_AUTH_SECRET, 3600);
  }

  const call = (server: SpawnedAppServer, token: string, method: string, path: string, body?: unknown) =>
    fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  /** On B, right after A answered: history, the generation by id, feedback. */
  async function readOnB(token: string, generated: GenerateBody): Promise<string> {
    const history = await call(b, token, "GET", "/api/generations");
    const lookup = await call(b, token, "GET", `/api/generations/${generated.id}`);
    const feedback = await call(b, token, "POST", "/api/feedback", { generationId: generated.id, rating: 1 });
    const items = ((await history.json()) as HistoryBody).items;
    const one = (await lookup.json()) as { caption: string | null; status: string };
    expect(history.status).toBe(200);
    expect(items.find((i) => i.id === generated.id)).toMatchObject({ status: "complete", caption: generated.caption, cached: generated.cached });
    expect(lookup.status).toBe(200);
    expect(one).toMatchObject({ status: "complete", caption: generated.caption });
    expect(feedback.status).toBe(200);
    return `history ${history.status} (listed), GET /api/generations/:id ${lookup.status} (caption matches), POST /api/feedback ${feedback.status}`;
  }

  it("a miss and a cached hit generated on A are in B's history, readable by id and rateable at once", async () => {
    const token = await signUp();
    const body = { text: "two instances, one history", mode: "standard", lang: "en" };

    const miss = await call(a, token, "POST", "/api/generate", body);
    expect(miss.status).toBe(200);
    const generated = (await miss.json()) as GenerateBody;
    expect(generated.cached).toBe(false);
    const missReport = await readOnB(token, generated);

    // The same request from another user: a cache hit with a row of its own, written before the answer.
    const other = await signUp();
    const hit = await call(a, other, "POST", "/api/generate", body);
    expect(hit.status).toBe(200);
    const cached = (await hit.json()) as GenerateBody;
    expect(cached.cached).toBe(true);
    expect(cached.id).not.toBe(generated.id);
    const hitReport = await readOnB(other, cached);
    // The first user asking again: their history already shows this answer, so its entry answers.
    const repeat = (await (await call(a, token, "POST", "/api/generate", body)).json()) as GenerateBody;
    expect(repeat).toMatchObject({ cached: true, id: generated.id });

    console.log(`two instances, miss on A then on B: ${missReport}`);
    console.log(`two instances, cached hit on A then on B: ${hitReport}`);
  }, 30_000);
});
