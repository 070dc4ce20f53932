/**
 * Security events written by real refusals (PRODUCT §6): each test drives the condition through
 * the real route handler, checks the refusal on the wire, then reads `litstatus.security_events`
 * and checks the row it left — type, severity, the client address, the user when signed in, the
 * path — and that nothing of the request's caption text went into it. The admin overview and the
 * alert rules count these rows (lib/admin/overview.ts, lib/admin/alerts.ts); their own tests use
 * fixture rows, so these are what fail if a write goes missing.
 *
 * Repeated refusals are neither deduplicated nor sampled (lib/events/writer.ts enqueues every
 * call): one refusal, one row.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "@/e2e/support/harness/app-harness";
import { envForBlock } from "@/e2e/support/harness/env-block";
import { INFLIGHT_KEY } from "@/lib/generation/keys";
import { afterResponseIdle } from "@/lib/util/after-response";

const storeMode = process.env.TEST_REDIS_URL ? "real stores" : "embedded stores";

/** The generate burst limit for the whole file (limiters read their limits once per process). */
const GENERATE_PER_MIN = 3;
const SECONDS_PER_DAY = 86_400;

interface EventRow {
  event_type: string;
  severity: string;
  ip: string | null;
  user_id: string | null;
  path: string | null;
  user_agent: string | null;
  meta: Record<string, unknown>;
}

interface ErrorBody {
  error: { code: string; message: string; requestId: string };
}

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ RATE_LIMIT_GENERATE_PER_MIN: String(GENERATE_PER_MIN) });
});
afterAll(async () => {
  await app.close();
});
beforeEach(() => {
  app.fake.reset();
});

let ipSeq = 0;
/** A client address no other test uses (TEST-NET-3), so each test reads only its own rows. */
const freshIp = () => `203.0.113.${(ipSeq += 1) + 100}`;

/** Caption input no row may carry: a unique marker, so a leak anywhere in a row is found. */
const secretText = (what: string) => `private caption input ${what} ${randomUUID()}`;

/** Every security event recorded for `ip`, oldest first, once the record writer has written them. */
async function eventsFrom(ip: string): Promise<EventRow[]> {
  await app.flush();
  return app.db.query<EventRow>(
    `select event_type, severity, host(ip) as ip, user_id::text as user_id, path, user_agent, meta
       from litstatus.security_events where ip = $1::inet order by id`,
    [ip],
  );
}

async function errorOf(res: Response): Promise<ErrorBody["error"]> {
  return ((await res.json()) as ErrorBody).error;
}

const captionBody = (text: string) => ({ text, mode: "standard", lang: "en" });

describe(`rate_limited: the burst limit refuses (${storeMode})`, () => {
  envForBlock({ GUEST_DAILY_LIMIT: 1_000 });

  /**
   * Generate requests from one caller until the limit has refused two (the first refusal comes
   * after GENERATE_PER_MIN allowed requests, or a few more when they straddle a window).
   */
  async function exhaust(options: { ip: string; token?: string }, text: string): Promise<{ allowed: number; refusals: Response[] }> {
    let allowed = 0;
    const refusals: Response[] = [];
    for (let attempt = 0; attempt < GENERATE_PER_MIN * 4 && refusals.length < 2; attempt++) {
      const res = await app.generate(captionBody(text), { ...options, headers: { "user-agent": "burst-client/1.0" } });
      if (res.status === 429) refusals.push(res);
      else {
        expect(res.status).toBe(200);
        await res.body?.cancel();
        allowed += 1;
      }
    }
    expect(refusals).toHaveLength(2);
    return { allowed, refusals };
  }

  it("a guest over the limit gets 429 rate_limited with Retry-After, and each refusal is one row", async () => {
    const ip = freshIp();
    const text = secretText("burst guest");
    const { allowed, refusals } = await exhaust({ ip }, text);
    expect(allowed).toBeGreaterThanOrEqual(GENERATE_PER_MIN);
    for (const res of refusals) {
      expect(res.status).toBe(429);
      expect(await errorOf(res)).toMatchObject({ code: "rate_limited" });
      const retryAfter = Number(res.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }

    const rows = await eventsFrom(ip);
    const expected: EventRow = {
      event_type: "rate_limited",
      severity: "warn",
      ip,
      user_id: null,
      path: "/api/generate",
      user_agent: "burst-client/1.0",
      meta: { limit: "generate" },
    };
    // Only the refusals left rows (the allowed requests none), one each.
    expect(rows).toEqual([expected, expected]);
    expect(JSON.stringify(rows)).not.toContain(text);
  });

  it("a signed-in user over the limit: the row names the user", async () => {
    const user = await app.signUp();
    const ip = freshIp();
    const text = secretText("burst user");
    const { refusals } = await exhaust({ ip, token: user.token }, text);
    for (const res of refusals) {
      expect(res.status).toBe(429);
      expect(await errorOf(res)).toMatchObject({ code: "rate_limited" });
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    }

    const rows = await eventsFrom(ip);
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row).toEqual({
        event_type: "rate_limited",
        severity: "warn",
        ip,
        user_id: user.userId,
        path: "/api/generate",
        user_agent: "burst-client/1.0",
        meta: { limit: "generate" },
      });
    }
    expect(JSON.stringify(rows)).not.toContain(text);
  });
});

describe(`quota_exceeded: the daily quota refuses (${storeMode})`, () => {
  envForBlock({ GUEST_DAILY_LIMIT: 1, USER_DAILY_LIMIT: 1 });

  /** Retry-After of a quota refusal: the time left until the next UTC midnight (within a day). */
  function expectRetryUntilMidnight(res: Response): void {
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(SECONDS_PER_DAY);
  }

  it("a guest past the daily limit (admission, in the store) gets 429 quota_exceeded and one row", async () => {
    const ip = freshIp();
    const first = await app.generate(captionBody(secretText("guest first")), { ip });
    expect(first.status).toBe(200);
    expect(await eventsFrom(ip)).toEqual([]);

    // Another text: the same one would be a cache hit, which spends no quota.
    const text = secretText("guest over quota");
    const refused = await app.generate(captionBody(text), { ip });
    expect(refused.status).toBe(429);
    expect(await errorOf(refused)).toMatchObject({ code: "quota_exceeded" });
    expectRetryUntilMidnight(refused);

    const rows = await eventsFrom(ip);
    expect(rows).toEqual([
      { event_type: "quota_exceeded", severity: "info", ip, user_id: null, path: "/api/generate", user_agent: null, meta: { plan: "guest" } },
    ]);
    expect(JSON.stringify(rows)).not.toContain(text);

    // A second refusal is a second row.
    const again = await app.generate(captionBody(secretText("guest again")), { ip });
    expect(again.status).toBe(429);
    expect((await eventsFrom(ip)).map((r) => r.event_type)).toEqual(["quota_exceeded", "quota_exceeded"]);
  });

  it("a signed-in user past the daily limit (the charge, in Postgres) gets 429 quota_exceeded and one row with the user", async () => {
    const user = await app.signUp();
    const ip = freshIp();
    const first = await app.generate(captionBody(secretText("user first")), { ip, token: user.token });
    expect(first.status).toBe(200);

    const text = secretText("user over quota");
    const refused = await app.generate(captionBody(text), { ip, token: user.token, headers: { "user-agent": "quota-client/2.0" } });
    expect(refused.status).toBe(429);
    expect(await errorOf(refused)).toMatchObject({ code: "quota_exceeded" });
    expectRetryUntilMidnight(refused);
    expect(await app.userUsage(user.userId)).toMatchObject({ used: 1, charges: 1 });

    const rows = await eventsFrom(ip);
    expect(rows).toEqual([
      {
        event_type: "quota_exceeded",
        severity: "info",
        ip,
        user_id: user.userId,
        path: "/api/generate",
        user_agent: "quota-client/2.0",
        meta: { plan: "free" },
      },
    ]);
    expect(JSON.stringify(rows)).not.toContain(text);
  });
});

describe(`high_load_reject: the in-flight cap is full and the queue times out (${storeMode})`, () => {
  const CAP = 1;
  envForBlock({ GEN_MAX_INFLIGHT: CAP, GEN_QUEUE_TIMEOUT_MS: 250, GUEST_DAILY_LIMIT: 1_000 });

  it("a guest and a user queued behind a full cap get 503 busy with Retry-After; one row each", async () => {
    // The only slot is held in the shared semaphore, as another instance's model call holds it,
    // until this test lets go: no race between a slow holder and the queue's timeout.
    const holder = `another-instance:${randomUUID()}`;
    expect(await app.kv.leaseAcquire(INFLIGHT_KEY, holder, CAP, 60_000)).toEqual({ acquired: true, holders: CAP });
    try {
      const user = await app.signUp();
      const guestIp = freshIp();
      const userIp = freshIp();
      const guestText = secretText("queued guest");
      const userText = secretText("queued user");
      const [guestRes, userRes] = await Promise.all([
        app.generate(captionBody(guestText), { ip: guestIp, headers: { "user-agent": "busy-client/3.0" } }),
        app.generate(captionBody(userText), { ip: userIp, token: user.token }),
      ]);
      for (const res of [guestRes, userRes]) {
        expect(res.status).toBe(503);
        expect(await errorOf(res)).toMatchObject({ code: "busy" });
        expect(res.headers.get("retry-after")).toBe("2");
      }
      expect(app.fake.stats().chatCalls).toBe(0);
      // The user's charge was given back, and neither refusal kept a slot.
      expect(await app.userUsage(user.userId)).toMatchObject({ used: 0, charges: 1, refunds: 1 });
      expect(await app.kv.leaseCount(INFLIGHT_KEY)).toBe(CAP);

      const base = { event_type: "high_load_reject", severity: "warn", path: "/api/generate", meta: { capacity: CAP } };
      const guestRows = await eventsFrom(guestIp);
      expect(guestRows).toEqual([{ ...base, ip: guestIp, user_id: null, user_agent: "busy-client/3.0" }]);
      const userRows = await eventsFrom(userIp);
      expect(userRows).toEqual([{ ...base, ip: userIp, user_id: user.userId, user_agent: null }]);
      expect(JSON.stringify([...guestRows, ...userRows])).not.toContain(guestText);
      expect(JSON.stringify([...guestRows, ...userRows])).not.toContain(userText);
    } finally {
      await app.kv.leaseRelease(INFLIGHT_KEY, holder);
    }

    // With the slot free again the same request is served and refused nothing.
    const ip = freshIp();
    const served = await app.generate(captionBody(secretText("after the cap")), { ip });
    expect(served.status).toBe(200);
    await afterResponseIdle();
    expect(await eventsFrom(ip)).toEqual([]);
    expect(await app.kv.leaseCount(INFLIGHT_KEY)).toBe(0);
  });
});

describe(`csp_violation: a browser reports a CSP violation (${storeMode})`, () => {
  /** The row a report leaves: always the same type, severity, path and (here) user agent. */
  const cspRow = (ip: string, userId: string | null, meta: Record<string, string>): EventRow => ({
    event_type: "csp_violation",
    severity: "warn",
    ip,
    user_id: userId,
    path: "/api/csp-report",
    user_agent: "Mozilla/5.0 (csp test)",
    meta,
  });
  const post = (ip: string, body: string, contentType: string, token?: string) =>
    app.request("POST", "/api/csp-report", { ip, token, body, headers: { "content-type": contentType, "user-agent": "Mozilla/5.0 (csp test)" } });

  it("a legacy report (application/csp-report) from a guest: 204 and one row with the summary only", async () => {
    const ip = freshIp();
    const report = {
      "csp-report": {
        "document-uri": "https://litstatus.test/en",
        "violated-directive": "script-src-elem",
        "effective-directive": "script-src-elem",
        "blocked-uri": "https://evil.example/x.js",
        "script-sample": "s".repeat(1_000),
        "original-policy": "default-src 'self'; script-src 'nonce-abc123' 'strict-dynamic'",
        referrer: "https://referrer.example/private-page",
      },
    };
    const res = await post(ip, JSON.stringify(report), "application/csp-report");
    expect(res.status).toBe(204);

    const rows = await eventsFrom(ip);
    expect(rows).toEqual([
      // Four fields, each cut at 300 characters: never the policy (its nonce) or the referrer.
      cspRow(ip, null, { directive: "script-src-elem", blocked: "https://evil.example/x.js", document: "https://litstatus.test/en", sample: "s".repeat(300) }),
    ]);
    expect(JSON.stringify(rows)).not.toContain("nonce-abc123");
    expect(JSON.stringify(rows)).not.toContain("referrer.example");
  });

  it("a Reporting API report (application/reports+json) from a signed-in user: the row names the user", async () => {
    const user = await app.signUp();
    const ip = freshIp();
    const reports = [
      {
        type: "csp-violation",
        url: "https://litstatus.test/en/history",
        body: {
          documentURL: "https://litstatus.test/en/history",
          effectiveDirective: "img-src",
          blockedURL: "https://tracker.example/pixel.gif",
          sample: "",
          originalPolicy: "img-src 'self'",
        },
      },
    ];
    const res = await post(ip, JSON.stringify(reports), "application/reports+json", user.token);
    expect(res.status).toBe(204);

    expect(await eventsFrom(ip)).toEqual([
      cspRow(ip, user.userId, { directive: "img-src", blocked: "https://tracker.example/pixel.gif", document: "https://litstatus.test/en/history", sample: "" }),
    ]);
  });

  it("an unreadable report is still recorded (by design), with empty fields and none of its text", async () => {
    const ip = freshIp();
    const res = await post(ip, "{not json: secret-looking-garbage", "application/csp-report");
    expect(res.status).toBe(204);
    const rows = await eventsFrom(ip);
    expect(rows).toEqual([
      cspRow(ip, null, { directive: "", blocked: "", document: "", sample: "" }),
    ]);
    expect(JSON.stringify(rows)).not.toContain("secret-looking-garbage");
  });

  it("an oversized report is refused with 413 and writes nothing", async () => {
    const ip = freshIp();
    const report = { "csp-report": { "violated-directive": "script-src", "script-sample": "x".repeat(20 * 1024) } };
    const res = await post(ip, JSON.stringify(report), "application/csp-report");
    expect(res.status).toBe(413);
    expect(await errorOf(res)).toMatchObject({ code: "payload_too_large" });
    expect(await eventsFrom(ip)).toEqual([]);
  });
});
