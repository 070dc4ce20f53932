import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "@/e2e/support/harness/app-harness";

interface ErrorBody {
  error: { code: string; message: string; requestId: string; details?: { path: string; message: string }[] };
}

const MODE = process.env.TEST_DATABASE_URL ? "real stores" : "embedded stores";
const SAME_ORIGIN = { origin: "http://litstatus.test" };
const CROSS_SITE = { origin: "https://evil.example" };

let app: TestApp;
let seq = 0;
const nextIp = () => `198.51.100.${++seq}`;

async function errorCode(res: Response): Promise<string> {
  return ((await res.json()) as ErrorBody).error.code;
}

async function generate(options: { token?: string; ip?: string }, text = `route test ${randomUUID()}`): Promise<string> {
  const res = await app.generate({ text, mode: "standard", lang: "en" }, { ip: options.ip ?? nextIp(), token: options.token });
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

describe(`POST /api/wishlist (${MODE})`, () => {
  const post = (json: unknown, options: { token?: string; headers?: Record<string, string> } = {}) =>
    app.request("POST", "/api/wishlist", { json, ip: nextIp(), token: options.token, headers: options.headers ?? SAME_ORIGIN });

  it("adds an email once: a repeat in another case is alreadyListed and keeps one row", async () => {
    const first = await post({ email: "  Fan@Example.TEST ", note: "  want pro  ", lang: "en" });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ ok: true, alreadyListed: false });

    const second = await post({ email: "fan@example.test" });
    expect(second.status).toBe(200);
    expect(await second.json()).toEqual({ ok: true, alreadyListed: true });

    const rows = await app.db.query<{ email: string; note: string | null; lang: string | null; user_id: string | null }>(
      `select email, note, lang, user_id from litstatus.pro_wishlist where lower(email) = 'fan@example.test'`,
    );
    // No note the second time: the first one is kept.
    expect(rows).toEqual([{ email: "fan@example.test", note: "want pro", lang: "en", user_id: null }]);

    const third = await post({ email: "FAN@example.test", note: "changed my mind" });
    expect(await third.json()).toEqual({ ok: true, alreadyListed: true });
    const [updated] = await app.db.query<{ note: string }>(`select note from litstatus.pro_wishlist where email = 'fan@example.test'`);
    expect(updated?.note).toBe("changed my mind");
  });

  it("links the row to a signed-in submitter", async () => {
    const { token, userId } = await app.signUp();
    const res = await post({ email: "linked@example.test" }, { token });
    expect(res.status).toBe(200);
    const [row] = await app.db.query<{ user_id: string }>(`select user_id from litstatus.pro_wishlist where email = 'linked@example.test'`);
    expect(row?.user_id).toBe(userId);
  });

  it("rejects an invalid email, a note over 1000 characters and unknown fields with 400", async () => {
    for (const body of [
      { email: "not-an-email" },
      { email: "" },
      {},
      { email: `${"a".repeat(250)}@example.test` },
      { email: "ok@example.test", note: "x".repeat(1001) },
      { email: "ok@example.test", admin: true },
    ]) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body).slice(0, 60)).toBe(400);
      expect(await errorCode(res)).toBe("invalid_input");
    }
    expect(await post({ email: "ok@example.test", note: "x".repeat(1000) }).then((r) => r.status)).toBe(200);
  });

  it("refuses a cross-site request with 403", async () => {
    const res = await post({ email: "csrf@example.test" }, { headers: CROSS_SITE });
    expect(res.status).toBe(403);
    expect(await app.db.query(`select 1 from litstatus.pro_wishlist where email = 'csrf@example.test'`)).toHaveLength(0);
  });
});

describe(`POST /api/feedback (${MODE})`, () => {
  const rate = (json: unknown, options: { token?: string; ip?: string } = {}) =>
    app.request("POST", "/api/feedback", { json, token: options.token, ip: options.ip ?? nextIp(), headers: SAME_ORIGIN });

  it("rates the user's own generation right after it was made, and a re-rating replaces it", async () => {
    const { token, userId } = await app.signUp();
    const generationId = await generate({ token });
    // No app.flush(): the generation row may still be buffered; the route flushes and re-checks.
    const first = await rate({ generationId, rating: 1, comment: "great" }, { token });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ ok: true });

    const second = await rate({ generationId, rating: -1 }, { token });
    expect(second.status).toBe(200);
    const rows = await app.db.query<{ rating: number; comment: string | null; user_id: string; client_hash: string | null }>(
      `select rating, comment, user_id, client_hash from litstatus.feedback where generation_id = $1`,
      [generationId],
    );
    expect(rows).toEqual([{ rating: -1, comment: null, user_id: userId, client_hash: null }]);
  });

  it("lets a guest rate a guest generation, once per client address", async () => {
    const ip = nextIp();
    const generationId = await generate({ ip });
    expect((await rate({ generationId, rating: 1 }, { ip })).status).toBe(200);
    expect((await rate({ generationId, rating: -1 }, { ip })).status).toBe(200);
    expect((await rate({ generationId, rating: 1 }, { ip: nextIp() })).status).toBe(200);
    const rows = await app.db.query<{ rating: number; user_id: string | null; client_hash: string }>(
      `select rating, user_id, client_hash from litstatus.feedback where generation_id = $1 order by id`,
      [generationId],
    );
    expect(rows).toHaveLength(2);
    expect(rows.map((r) => r.rating)).toEqual([-1, 1]);
    expect(rows.every((r) => r.user_id === null && /^[0-9a-f]{64}$/.test(r.client_hash))).toBe(true);
    expect(rows.some((r) => r.client_hash.includes(ip))).toBe(false);
  });

  it("answers 404 for another user's generation, a user's generation to a guest, a guest's to a user, and unknown ids", async () => {
    const owner = await app.signUp();
    const stranger = await app.signUp();
    const owned = await generate({ token: owner.token });
    const guestIp = nextIp();
    const guestOwned = await generate({ ip: guestIp });
    await app.flush();
    const cases: [unknown, { token?: string; ip?: string }][] = [
      [{ generationId: owned, rating: 1 }, { token: stranger.token }],
      [{ generationId: owned, rating: 1 }, { ip: guestIp }],
      [{ generationId: guestOwned, rating: 1 }, { token: owner.token }],
      [{ generationId: randomUUID(), rating: 1 }, { token: owner.token }],
      [{ generationId: randomUUID(), rating: -1 }, {}],
    ];
    for (const [body, options] of cases) {
      const res = await rate(body, options);
      expect(res.status).toBe(404);
      expect(await errorCode(res)).toBe("not_found");
    }
    expect(await app.db.query(`select 1 from litstatus.feedback where generation_id = any($1::uuid[])`, [[owned, guestOwned]])).toHaveLength(0);
  });

  it("rejects a bad rating, a malformed id, a long comment and a non-JSON body with 400/415", async () => {
    const { token } = await app.signUp();
    const generationId = await generate({ token });
    for (const body of [
      { generationId, rating: 0 },
      { generationId, rating: 2 },
      { generationId, rating: "1" },
      { generationId },
      { generationId: "not-a-uuid", rating: 1 },
      { generationId, rating: 1, comment: "x".repeat(1001) },
    ]) {
      const res = await rate(body, { token });
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(await errorCode(res)).toBe("invalid_input");
    }
    const form = await app.request("POST", "/api/feedback", {
      token,
      headers: { ...SAME_ORIGIN, "content-type": "application/x-www-form-urlencoded" },
      body: "rating=1",
    });
    expect(form.status).toBe(415);
  });

  it("refuses a cross-site request with 403", async () => {
    const { token } = await app.signUp();
    const generationId = await generate({ token });
    const res = await app.request("POST", "/api/feedback", { token, headers: CROSS_SITE, json: { generationId, rating: 1 } });
    expect(res.status).toBe(403);
  });
});

describe(`POST /api/events (${MODE})`, () => {
  const send = (body: unknown, options: { token?: string; headers?: Record<string, string> } = {}) =>
    app.request("POST", "/api/events", {
      token: options.token,
      ip: nextIp(),
      headers: { ...SAME_ORIGIN, ...options.headers },
      ...(typeof body === "string" ? { body } : { json: body }),
    });

  it("queues an allowed event (202 at once) that is written with the viewer's user id", async () => {
    const { token, userId } = await app.signUp();
    const sessionId = `sess_${randomUUID().replaceAll("-", "")}`;
    const res = await send(
      {
        event: "page_view",
        sessionId,
        path: "/en",
        lang: "en",
        variant: "hero-b",
        referrer: "https://news.example/post",
        utm: { source: "newsletter", medium: "email", campaign: "launch" },
        meta: { step: 1, fromCta: true, label: "top", empty: null },
        unknownField: "ignored",
      },
      { token },
    );
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ ok: true });
    await app.flush();
    const rows = await app.db.query(
      `select event, user_id, session_id, path, lang, variant, referrer, utm_source, utm_medium, utm_campaign, meta
         from litstatus.funnel_events where session_id = $1`,
      [sessionId],
    );
    expect(rows).toEqual([
      {
        event: "page_view",
        user_id: userId,
        session_id: sessionId,
        path: "/en",
        lang: "en",
        variant: "hero-b",
        referrer: "https://news.example/post",
        utm_source: "newsletter",
        utm_medium: "email",
        utm_campaign: "launch",
        meta: { step: 1, fromCta: true, label: "top", empty: null },
      },
    ]);
  });

  it("accepts navigator.sendBeacon's text/plain body (and no content type) from guests", async () => {
    const sessionId = "beacon-session-01";
    const plain = await send(JSON.stringify({ event: "copy_caption", sessionId }), {
      headers: { "content-type": "text/plain;charset=UTF-8" },
    });
    expect(plain.status).toBe(202);
    const bare = await send(JSON.stringify({ event: "copy_all", sessionId }));
    expect(bare.status).toBe(202);
    await app.flush();
    const rows = await app.db.query<{ event: string; user_id: string | null }>(
      `select event, user_id from litstatus.funnel_events where session_id = $1 order by id`,
      [sessionId],
    );
    expect(rows).toEqual([
      { event: "copy_caption", user_id: null },
      { event: "copy_all", user_id: null },
    ]);
  });

  it("accepts every allowlisted event", async () => {
    for (const event of ["page_view", "generate_click", "copy_caption", "copy_all", "feedback_up", "feedback_down", "wish_submit", "signup", "upgrade_click"]) {
      expect((await send({ event, sessionId: "allowlist-session" })).status, event).toBe(202);
    }
  });

  it("rejects generate_success (server only), unknown events, bad session ids and bad meta with 400", async () => {
    const ok = { event: "page_view", sessionId: "valid-session-id" };
    const bad: unknown[] = [
      { ...ok, event: "generate_success" },
      { ...ok, event: "drop_table" },
      { sessionId: ok.sessionId },
      { ...ok, sessionId: "short" },
      { ...ok, sessionId: "has spaces in it" },
      { ...ok, sessionId: "x".repeat(129) },
      { event: ok.event },
      { ...ok, meta: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, i])) },
      { ...ok, meta: { nested: { a: 1 } } },
      { ...ok, meta: { list: [1, 2] } },
      { ...ok, meta: { a: "x".repeat(500), b: "x".repeat(500), c: "x".repeat(500), d: "x".repeat(500), e: "x".repeat(500) } },
      { ...ok, meta: { __proto__x: 1, "bad key": 1 } },
      { ...ok, path: "https://elsewhere.example/" },
      { ...ok, utm: { source: "s".repeat(129) } },
      [ok],
    ];
    for (const body of bad) {
      const res = await send(body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(await errorCode(res)).toBe("invalid_input");
    }
    const notJson = await send("event=page_view", { headers: { "content-type": "text/plain" } });
    expect(notJson.status).toBe(400);
    await app.flush();
    expect(await app.db.query(`select 1 from litstatus.funnel_events where session_id = 'valid-session-id'`)).toHaveLength(0);
  });

  it("refuses a body over 8 KB with 413, other media types with 415 and cross-site origins with 403", async () => {
    const big = JSON.stringify({ event: "page_view", sessionId: "big-session-01", referrer: "r".repeat(9000) });
    const tooBig = await send(big, { headers: { "content-type": "text/plain" } });
    expect(tooBig.status).toBe(413);
    expect(await errorCode(tooBig)).toBe("payload_too_large");

    const xml = await send("<event/>", { headers: { "content-type": "application/xml" } });
    expect(xml.status).toBe(415);

    const crossSite = await send({ event: "page_view", sessionId: "cross-site-01" }, { headers: CROSS_SITE });
    expect(crossSite.status).toBe(403);
  });
});

describe(`auth failures (${MODE})`, () => {
  it("a garbage bearer token is 401 and recorded as an auth_failure security event", async () => {
    const ip = "198.51.100.250";
    const res = await app.request("GET", "/api/me", { token: "garbage.token.value", ip });
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe("unauthorized");
    await app.flush();
    const rows = await app.db.query<{ severity: string; ip: string; path: string; user_id: string | null; meta: { reason?: string } }>(
      `select severity, host(ip) as ip, path, user_id, meta from litstatus.security_events
        where event_type = 'auth_failure' and ip = $1::inet`,
      [ip],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ severity: "warn", ip, path: "/api/me", user_id: null });
    expect(typeof rows[0]?.meta.reason).toBe("string");
  });

  it("a token for a deleted account is recorded with reason unknown_user", async () => {
    const { token, userId } = await app.signUp();
    await app.db.query(`delete from auth.users where id = $1`, [userId]);
    const ip = "198.51.100.251";
    const res = await app.request("GET", "/api/quota", { token, ip });
    expect(res.status).toBe(401);
    await app.flush();
    const [row] = await app.db.query<{ meta: { reason: string }; path: string }>(
      `select meta, path from litstatus.security_events where event_type = 'auth_failure' and ip = $1::inet`,
      [ip],
    );
    expect(row).toEqual({ meta: { reason: "unknown_user" }, path: "/api/quota" });
  });

  it("beacons with a stale session still land, as a guest, without an auth_failure event", async () => {
    const { token, userId } = await app.signUp();
    await app.db.query(`delete from auth.users where id = $1`, [userId]);
    const ip = "198.51.100.252";
    const res = await app.request("POST", "/api/events", { token, ip, headers: SAME_ORIGIN, json: { event: "page_view", sessionId: "stale-session-01" } });
    expect(res.status).toBe(202);
    await app.flush();
    const failures = await app.db.query(`select 1 from litstatus.security_events where event_type = 'auth_failure' and ip = $1::inet`, [ip]);
    expect(failures).toHaveLength(0);
    const events = await app.db.query<{ user_id: string | null }>(`select user_id from litstatus.funnel_events where session_id = 'stale-session-01'`);
    expect(events).toEqual([{ user_id: null }]);
  });
});
