/**
 * History: GET/DELETE /api/generations and /api/generations/:id show and delete the caller's
 * own generations only (anyone else's are 404, never 403), with paging and a status filter;
 * guests have no history, and their generations are stored without the text.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "@/e2e/support/harness/app-harness";
import type { HistoryItem } from "./history";

interface Page {
  items: HistoryItem[];
  total: number;
  limit: number;
  offset: number;
}
interface ErrorBody {
  error: { code: string; requestId: string };
}

const storeMode = process.env.TEST_REDIS_URL ? "real stores" : "embedded stores";

let seq = 0;
const nextIp = () => `198.51.100.${++seq}`;

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ BREAKER_FAILURE_THRESHOLD: "1000" });
});
afterAll(async () => {
  await app.close();
});
beforeEach(() => {
  app.fake.reset();
});

async function list(token: string | undefined, query = ""): Promise<{ status: number; body: Page & ErrorBody }> {
  const res = await app.request("GET", `/api/generations${query}`, { token, ip: nextIp() });
  return { status: res.status, body: (await res.json()) as Page & ErrorBody };
}

async function expectError(res: Response, status: number, code: string): Promise<void> {
  const body = (await res.json()) as ErrorBody;
  expect({ status: res.status, code: body.error?.code }).toEqual({ status, code });
  expect(body.error.requestId).toBe(res.headers.get("x-request-id"));
}

async function rowExists(id: string): Promise<boolean> {
  return (await app.db.query(`select 1 from litstatus.generations where id = $1`, [id])).length === 1;
}

describe(`generation history (${storeMode})`, () => {
  let alice: { userId: string; token: string };
  let bob: { userId: string; token: string };
  /** Alice's generations, oldest first: three complete, then one failed. */
  const aliceIds: string[] = [];
  const aliceTexts: string[] = [];
  let bobId = "";

  beforeAll(async () => {
    alice = await app.signUp();
    bob = await app.signUp();
    const modes = ["standard", "savage", "rizz"];
    for (let i = 0; i < 3; i++) {
      const text = `alice's history entry ${i}`;
      const res = await app.generate({ text, mode: modes[i], lang: i === 2 ? "zh" : "en", platform: "x" }, { token: alice.token, ip: nextIp() });
      expect(res.status).toBe(200);
      aliceIds.push(((await res.json()) as { id: string }).id);
      aliceTexts.push(text);
      await new Promise((resolve) => setTimeout(resolve, 5)); // distinct created_at
    }
    app.fake.set({ fault: { kind: "status", status: 500 }, faultCount: 2 });
    const failed = await app.generate({ text: "alice's failed entry", mode: "standard", lang: "en" }, { token: alice.token, ip: nextIp() });
    expect(failed.status).toBe(503);
    app.fake.reset();
    const bobRes = await app.generate({ text: "bob's only entry", mode: "standard", lang: "en" }, { token: bob.token, ip: nextIp() });
    bobId = ((await bobRes.json()) as { id: string }).id;
    await app.flush();
    // The failed one has no id in its response: find it.
    const [row] = await app.db.query<{ id: string }>(
      `select id::text as id from litstatus.generations where user_id = $1 and status = 'failed'`,
      [alice.userId],
    );
    aliceIds.push(row!.id);
    aliceTexts.push("alice's failed entry");
  });

  it("lists the caller's own generations, newest first, with the total", async () => {
    const { status, body } = await list(alice.token);
    expect(status).toBe(200);
    expect(body.total).toBe(4);
    expect(body.limit).toBe(20);
    expect(body.offset).toBe(0);
    expect(body.items.map((i) => i.id)).toEqual([...aliceIds].reverse());
    const created = body.items.map((i) => Date.parse(i.createdAt));
    expect([...created].sort((a, b) => b - a)).toEqual(created);
    const [failed, newest] = body.items;
    expect(failed).toMatchObject({ status: "failed", errorCode: "upstream_unavailable", caption: null, text: "alice's failed entry" });
    expect(newest).toMatchObject({ status: "complete", mode: "rizz", lang: "zh", platform: "x", text: aliceTexts[2], cached: false });
    expect(newest!.caption).toBeTruthy();
    expect(newest!.hashtags.length).toBeGreaterThan(0);
    // Nothing is starred until its owner stars it; a failed row has no variants.
    expect(body.items.map((i) => i.favorite)).toEqual([false, false, false, false]);
    expect(failed!.variants).toBeNull();
    expect(body.items.map((i) => i.id)).not.toContain(bobId);
  });

  it("pages with limit and offset", async () => {
    const first = await list(alice.token, "?limit=2");
    const second = await list(alice.token, "?limit=2&offset=2");
    const beyond = await list(alice.token, "?limit=2&offset=10");
    expect(first.body.items.map((i) => i.id)).toEqual([aliceIds[3], aliceIds[2]]);
    expect(second.body.items.map((i) => i.id)).toEqual([aliceIds[1], aliceIds[0]]);
    expect(beyond.body.items).toEqual([]);
    for (const page of [first, second, beyond]) expect(page.body.total).toBe(4);
    expect(second.body).toMatchObject({ limit: 2, offset: 2 });
  });

  it("filters by status (and the total follows the filter)", async () => {
    const failed = await list(alice.token, "?status=failed");
    expect(failed.body.items.map((i) => i.id)).toEqual([aliceIds[3]]);
    expect(failed.body.total).toBe(1);
    const complete = await list(alice.token, "?status=complete&limit=1");
    expect(complete.body.total).toBe(3);
    expect(complete.body.items.map((i) => i.id)).toEqual([aliceIds[2]]);
    const pending = await list(alice.token, "?status=pending");
    expect(pending.body).toMatchObject({ items: [], total: 0 });
  });

  it("guests have no history: 401", async () => {
    await expectError(await app.request("GET", "/api/generations", { ip: nextIp() }), 401, "unauthorized");
    await expectError(await app.request("DELETE", "/api/generations", { ip: nextIp() }), 401, "unauthorized");
    await expectError(await app.request("GET", `/api/generations/${aliceIds[0]}`, { ip: nextIp() }), 401, "unauthorized");
    await expectError(await app.request("DELETE", `/api/generations/${aliceIds[0]}`, { ip: nextIp() }), 401, "unauthorized");
  });

  it("an invalid token is 401, not a guest", async () => {
    await expectError(await app.request("GET", "/api/generations", { ip: nextIp(), token: "not-a-token" }), 401, "unauthorized");
  });

  it.each([
    "?limit=0",
    "?limit=101",
    "?limit=abc",
    "?limit=1.5",
    "?offset=-1",
    "?offset=x",
    "?status=done",
    "?status=",
    "?favorite=yes",
    "?sort=asc",
  ])("bad query %s → 400 invalid_input", async (query) => {
    await expectError(await app.request("GET", `/api/generations${query}`, { ip: nextIp(), token: alice.token }), 400, "invalid_input");
  });

  it("GET /api/generations/:id: the owner sees the text and caption", async () => {
    const res = await app.request("GET", `/api/generations/${aliceIds[1]}`, { ip: nextIp(), token: alice.token });
    expect(res.status).toBe(200);
    const item = (await res.json()) as HistoryItem;
    expect(item).toMatchObject({ id: aliceIds[1], status: "complete", mode: "savage", text: aliceTexts[1] });
    expect(item.caption).toBeTruthy();
  });

  it("someone else's id is 404 for GET and DELETE, and their row is untouched", async () => {
    await expectError(await app.request("GET", `/api/generations/${bobId}`, { ip: nextIp(), token: alice.token }), 404, "not_found");
    await expectError(await app.request("DELETE", `/api/generations/${bobId}`, { ip: nextIp(), token: alice.token }), 404, "not_found");
    expect(await rowExists(bobId)).toBe(true);
    // The same answer as an id that does not exist at all.
    await expectError(await app.request("GET", `/api/generations/${randomUUID()}`, { ip: nextIp(), token: alice.token }), 404, "not_found");
  });

  it.each(["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g", "%27%20or%201%3D1"])("malformed id %s → 404", async (id) => {
    await expectError(await app.request("GET", `/api/generations/${id}`, { ip: nextIp(), token: alice.token }), 404, "not_found");
    await expectError(await app.request("DELETE", `/api/generations/${id}`, { ip: nextIp(), token: alice.token }), 404, "not_found");
  });

  it("DELETE one: gone for the owner, the others stay", async () => {
    const res = await app.request("DELETE", `/api/generations/${aliceIds[0]}`, { ip: nextIp(), token: alice.token });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ deleted: true });
    expect(await rowExists(aliceIds[0]!)).toBe(false);
    await expectError(await app.request("GET", `/api/generations/${aliceIds[0]}`, { ip: nextIp(), token: alice.token }), 404, "not_found");
    await expectError(await app.request("DELETE", `/api/generations/${aliceIds[0]}`, { ip: nextIp(), token: alice.token }), 404, "not_found");
    expect((await list(alice.token)).body.total).toBe(3);
  });

  it("DELETE all: the owner's history is empty, other users' is not", async () => {
    const res = await app.request("DELETE", "/api/generations", { ip: nextIp(), token: alice.token });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ deleted: 3 });
    expect((await list(alice.token)).body).toMatchObject({ items: [], total: 0 });
    const bobs = await list(bob.token);
    expect(bobs.body.items.map((i) => i.id)).toEqual([bobId]);
  });

  it("a cross-site DELETE is refused", async () => {
    const res = await app.request("DELETE", `/api/generations/${bobId}`, {
      ip: nextIp(),
      token: bob.token,
      headers: { origin: "https://evil.example" },
    });
    await expectError(res, 403, "forbidden");
    expect(await rowExists(bobId)).toBe(true);
  });

  it("guests' generations are stored without the text: input_text null, input_hash set", async () => {
    const res = await app.generate({ text: "a guest's private words", mode: "standard", lang: "en" }, { ip: nextIp() });
    expect(res.status).toBe(200);
    const { id } = (await res.json()) as { id: string };
    await app.flush();
    const [row] = await app.db.query<{ user_id: string | null; input_text: string | null; input_hash: string; status: string }>(
      `select user_id, input_text, input_hash, status from litstatus.generations where id = $1`,
      [id],
    );
    expect(row).toMatchObject({ user_id: null, input_text: null, status: "complete" });
    expect(row!.input_hash).toMatch(/^[0-9a-f]{64}$/);
    const leaked = await app.db.query(`select 1 from litstatus.generations where input_text like '%private words%'`);
    expect(leaked).toHaveLength(0);
  });
});
