import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Db } from "@/lib/db/types";
import { openTestDb, type TestDb } from "@/e2e/support/harness/stores-db";
import {
  createRecordWriter,
  type GenerationRecord,
  type RecordWriter,
  type RecordWriterLog,
  type RecordWriterOptions,
  type SecurityEventInput,
} from "./writer";

/** Runs on openTestDb(): in-memory PGlite by default, a throwaway server database with TEST_DATABASE_URL. */

let t: TestDb;
let userId: string;
const writers: RecordWriter[] = [];

beforeAll(async () => {
  t = await openTestDb();
  userId = randomUUID();
  await t.db.query("insert into auth.users (id, email) values ($1, $2)", [userId, "writer@example.test"]);
});

afterEach(async () => {
  for (const w of writers.splice(0)) await w.close();
  await t.db.query("truncate litstatus.security_events, litstatus.funnel_events, litstatus.generations cascade");
});

afterAll(async () => {
  await t?.cleanup();
});

function fakeLog() {
  return { info: vi.fn(), warn: vi.fn(), error: vi.fn() } satisfies RecordWriterLog;
}

/** A Db that records every statement and can be made to fail like an unreachable server. */
function wrapDb(db: Db) {
  const statements: string[] = [];
  const state = { down: false, hang: undefined as Promise<void> | undefined };
  const wrapped: Db = {
    kind: db.kind,
    async query<Row extends object>(sql: string, params?: Parameters<Db["query"]>[1]) {
      statements.push(sql);
      if (state.hang) await state.hang;
      if (state.down) {
        throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
      }
      return db.query<Row>(sql, params);
    },
    transaction: (work) => db.transaction(work),
    exec: (sql) => db.exec(sql),
    close: async () => {},
  };
  return { db: wrapped, statements, state, inserts: () => statements.filter((s) => s.startsWith("insert")) };
}

function writerFor(db: Db, options: Partial<RecordWriterOptions> = {}) {
  const log = fakeLog();
  const writer = createRecordWriter({ getDb: async () => db, flushIntervalMs: 60_000, log, ...options });
  writers.push(writer);
  return { writer, log };
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function count(table: string): Promise<number> {
  const [row] = await t.db.query<{ n: number }>(`select count(*)::int as n from litstatus.${table}`);
  return row?.n ?? -1;
}

async function eventTypes(): Promise<string[]> {
  const rows = await t.db.query<{ event_type: string }>("select event_type from litstatus.security_events order by id");
  return rows.map((r) => r.event_type);
}

function sec(i: number, extra: Partial<SecurityEventInput> = {}): SecurityEventInput {
  return { eventType: `e${i}`, severity: "warn", ip: "203.0.113.7", path: "/api/generate", ...extra };
}

function gen(id: string, extra: Partial<GenerationRecord> = {}): GenerationRecord {
  return {
    id,
    userId: null,
    status: "pending",
    mode: "standard",
    lang: "en",
    platform: null,
    inputText: null,
    inputHash: "h".repeat(64),
    hasImage: false,
    cached: false,
    createdAt: new Date("2026-01-02T03:04:05.000Z"),
    ...extra,
  };
}

async function generation(id: string) {
  const [row] = await t.db.query<Record<string, unknown>>("select * from litstatus.generations where id = $1", [id]);
  return row;
}

describe("record writer: batching", () => {
  it("writes 100 security and 50 funnel events with one INSERT per table", async () => {
    const w = wrapDb(t.db);
    const { writer } = writerFor(w.db);
    for (let i = 0; i < 100; i++) writer.securityEvent(sec(i));
    for (let i = 0; i < 50; i++) writer.funnelEvent({ event: "page_view", sessionId: `s${i}`, lang: "en" });
    expect(writer.stats()).toEqual({ buffered: 150, dropped: 0, written: 0, failedFlushes: 0 });
    expect(w.statements).toHaveLength(0); // enqueueing never touches the database

    await writer.flush();
    expect(await count("security_events")).toBe(100);
    expect(await count("funnel_events")).toBe(50);
    expect(w.inserts()).toHaveLength(2);
    expect(writer.stats()).toEqual({ buffered: 0, dropped: 0, written: 150, failedFlushes: 0 });
    expect(await eventTypes()).toEqual(Array.from({ length: 100 }, (_, i) => `e${i}`));
  });

  it("splits into batches of batchSize", async () => {
    const w = wrapDb(t.db);
    const { writer } = writerFor(w.db, { batchSize: 40 });
    for (let i = 0; i < 100; i++) writer.securityEvent(sec(i));
    await writer.flush();
    expect(await count("security_events")).toBe(100);
    expect(w.inserts()).toHaveLength(3);
  });

  it("flushes on the timer, and at once when a batch is full", async () => {
    const timed = writerFor(t.db, { flushIntervalMs: 20 }).writer;
    timed.securityEvent(sec(1));
    await waitFor(async () => (await count("security_events")) === 1);

    const full = writerFor(t.db, { batchSize: 10, flushIntervalMs: 60_000 }).writer;
    for (let i = 0; i < 10; i++) full.funnelEvent({ event: "generate_click" });
    await waitFor(async () => (await count("funnel_events")) === 10, 5_000);
    expect(full.stats().written).toBe(10);
  });

  it("stores every column, cutting strings to the column limits", async () => {
    const { writer } = writerFor(t.db);
    writer.securityEvent({
      eventType: "x".repeat(100),
      severity: "critical",
      ip: "2001:db8::1",
      userId,
      path: `/${"p".repeat(600)}`,
      userAgent: "ü".repeat(600),
      meta: { limit: 3, nested: { ok: true }, nul: "a\u0000b" },
    });
    writer.securityEvent({ eventType: "bad_ip", severity: "info", ip: "not-an-ip", userId: "not-a-uuid" });
    writer.funnelEvent({
      event: "page_view",
      userId,
      sessionId: "s".repeat(200),
      path: "/",
      lang: "en-US-extra-long",
      variant: "v".repeat(100),
      referrer: "r".repeat(2000),
      utmSource: "u".repeat(200),
      utmMedium: "m",
      utmCampaign: "c",
      meta: { a: 1 },
    });
    await writer.flush();
    expect(writer.stats().dropped).toBe(0);

    const rows = await t.db.query<Record<string, unknown>>(
      "select event_type, severity, host(ip) as ip, user_id::text as user_id, path, user_agent, meta, created_at " +
        "from litstatus.security_events order by id",
    );
    expect(rows).toHaveLength(2);
    const [first, second] = rows;
    expect(first?.event_type).toBe("x".repeat(64));
    expect(first?.severity).toBe("critical");
    expect(first?.ip).toBe("2001:db8::1");
    expect(first?.user_id).toBe(userId);
    expect((first?.path as string).length).toBe(512);
    expect(first?.user_agent).toBe("ü".repeat(512));
    expect(first?.meta).toEqual({ limit: 3, nested: { ok: true }, nul: "ab" });
    expect(Math.abs(Date.now() - (first?.created_at as Date).getTime())).toBeLessThan(60_000);
    expect(second?.ip).toBeNull();
    expect(second?.user_id).toBeNull();

    const [funnel] = await t.db.query<Record<string, unknown>>("select * from litstatus.funnel_events");
    expect(funnel?.user_id).toBe(userId);
    expect((funnel?.session_id as string).length).toBe(128);
    expect(funnel?.lang).toBe("en-US-ex");
    expect((funnel?.variant as string).length).toBe(64);
    expect((funnel?.referrer as string).length).toBe(1024);
    expect((funnel?.utm_source as string).length).toBe(128);
    expect(funnel?.meta).toEqual({ a: 1 });
  });

  it("sends one constant statement per table, whatever the batch, and keeps every character", async () => {
    const w = wrapDb(t.db);
    const { writer } = writerFor(w.db);
    writer.securityEvent(sec(1, { userAgent: `quote " backslash \\ newline \n tab \t emoji 🎉 中文` }));
    // A lone surrogate (a client can send one in JSON): stored as U+FFFD, as a text parameter was.
    writer.securityEvent(sec(2, { userAgent: "lone \ud800 high, lone \udc00 low, pair \ud83c\udf89" }));
    writer.generation(gen(randomUUID(), { status: "complete", caption: "it's \"quoted\"", hashtags: ['a"b', "c\\d", "中文"], variants: [{ caption: "x", hashtags: [] }] }));
    await writer.flush();
    for (let i = 3; i < 40; i++) writer.securityEvent(sec(i));
    await writer.flush();
    expect(writer.stats()).toMatchObject({ dropped: 0, written: 40 });
    const inserts = w.inserts();
    expect(inserts).toHaveLength(3);
    expect(inserts[2]).toBe(inserts[0]); // the same text for 2 rows and for 37
    expect(inserts.every((sql) => !sql.includes("$2"))).toBe(true);

    const rows = await t.db.query<{ user_agent: string }>("select user_agent from litstatus.security_events order by id limit 2");
    expect(rows.map((r) => r.user_agent)).toEqual([
      `quote " backslash \\ newline \n tab \t emoji 🎉 中文`,
      "lone \ufffd high, lone \ufffd low, pair \ud83c\udf89",
    ]);
    expect(await eventTypes()).toEqual(Array.from({ length: 39 }, (_, i) => `e${i + 1}`));
    const [row] = await t.db.query<Record<string, unknown>>("select caption, hashtags, variants from litstatus.generations");
    expect(row).toEqual({ caption: 'it\'s "quoted"', hashtags: ['a"b', "c\\d", "中文"], variants: [{ caption: "x", hashtags: [] }] });
  });

  it("never throws from enqueue, even for unusable records", async () => {
    const { writer, log } = writerFor(t.db);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => writer.securityEvent({ eventType: "circular", severity: "info", meta: circular })).not.toThrow();
    expect(() => writer.generation(gen(randomUUID(), { createdAt: new Date(Number.NaN) }))).not.toThrow();
    await writer.flush();
    expect(await count("security_events")).toBe(1); // meta replaced, event kept
    expect(await count("generations")).toBe(0);
    expect(writer.stats()).toMatchObject({ dropped: 1, written: 1 });
    expect(log.error).toHaveBeenCalledTimes(1);
  });
});

describe("record writer: generations", () => {
  it("upserts pending → complete and never regresses complete → pending", async () => {
    const w = wrapDb(t.db);
    const { writer } = writerFor(w.db);
    const id = randomUUID();
    writer.generation(gen(id, { userId, inputText: "my cat on a skateboard" }));
    await writer.flush();
    expect(await generation(id)).toMatchObject({ status: "pending", user_id: userId, caption: null, hashtags: [] });

    const done = new Date("2026-01-02T03:04:07.000Z");
    writer.generation(
      gen(id, {
        userId,
        inputText: "my cat on a skateboard",
        status: "complete",
        caption: 'Wheels "out"',
        hashtags: ["cat", "sk8,er", 'q"uote', "back\\slash"],
        detectedObject: "cat",
        provider: "openai",
        model: "gpt-x",
        latencyMs: 812.4,
        promptTokens: 120,
        completionTokens: 40,
        requestId: "req-1",
        completedAt: done,
      }),
    );
    await writer.flush();
    const row = await generation(id);
    expect(row).toMatchObject({
      status: "complete",
      caption: 'Wheels "out"',
      hashtags: ["cat", "sk8,er", 'q"uote', "back\\slash"],
      detected_object: "cat",
      provider: "openai",
      model: "gpt-x",
      latency_ms: 812,
      prompt_tokens: 120,
      completion_tokens: 40,
      request_id: "req-1",
      input_text: "my cat on a skateboard",
      mode: "standard",
      lang: "en",
    });
    expect((row?.completed_at as Date).getTime()).toBe(done.getTime());
    expect((row?.created_at as Date).toISOString()).toBe("2026-01-02T03:04:05.000Z");

    writer.generation(gen(id, { userId, status: "pending" }));
    await writer.flush();
    expect(await generation(id)).toMatchObject({ status: "complete", caption: 'Wheels "out"' });
    expect(writer.stats()).toMatchObject({ written: 3, dropped: 0 });
  });

  it("collapses records for the same id in one batch to the last one", async () => {
    const w = wrapDb(t.db);
    const { writer } = writerFor(w.db);
    const a = randomUUID();
    const b = randomUUID();
    const c = randomUUID();
    writer.generation(gen(a));
    writer.generation(gen(b));
    writer.generation(gen(a, { status: "failed", errorCode: "upstream_timeout" }));
    writer.generation(gen(b, { status: "complete", caption: "first" }));
    writer.generation(gen(b, { status: "pending" })); // a late pending never undoes a finished record
    writer.generation(gen(c, { status: "complete", cached: true, caption: "hit" }));
    await writer.flush();
    expect(w.inserts()).toHaveLength(1);
    expect(await count("generations")).toBe(3);
    expect(await generation(a)).toMatchObject({ status: "failed", error_code: "upstream_timeout" });
    expect(await generation(b)).toMatchObject({ status: "complete", caption: "first" });
    expect(await generation(c)).toMatchObject({ status: "complete", cached: true });
    expect(writer.stats()).toMatchObject({ written: 6, dropped: 0 });
  });
});

describe("record writer: outages", () => {
  it("loses nothing while the database is down, and logs the outage once", async () => {
    const w = wrapDb(t.db);
    const { writer, log } = writerFor(w.db, { flushIntervalMs: 5, maxRetryDelayMs: 40 });
    w.state.down = true;
    for (let i = 0; i < 30; i++) writer.securityEvent(sec(i));
    const id = randomUUID();
    writer.generation(gen(id));

    await writer.flush(); // resolves although the attempt failed
    await waitFor(() => writer.stats().failedFlushes >= 3);
    for (let i = 30; i < 60; i++) writer.securityEvent(sec(i));
    writer.generation(gen(id, { status: "complete", caption: "late" }));
    expect(writer.stats()).toMatchObject({ buffered: 62, dropped: 0, written: 0 });
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(log.info).not.toHaveBeenCalled();

    w.state.down = false;
    await waitFor(() => writer.stats().buffered === 0);
    expect(await eventTypes()).toEqual(Array.from({ length: 60 }, (_, i) => `e${i}`));
    expect(await generation(id)).toMatchObject({ status: "complete", caption: "late" });
    expect(writer.stats()).toMatchObject({ buffered: 0, dropped: 0, written: 62 });
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(log.info).toHaveBeenCalledTimes(1);
  });

  it("retries when getDb itself fails", async () => {
    let fail = true;
    const log = fakeLog();
    const writer = createRecordWriter({
      getDb: async () => {
        if (fail) throw new Error("database not configured yet");
        return t.db;
      },
      flushIntervalMs: 5,
      maxRetryDelayMs: 20,
      log,
    });
    writers.push(writer);
    writer.funnelEvent({ event: "signup" });
    await writer.flush();
    expect(writer.stats()).toMatchObject({ buffered: 1, written: 0 });
    fail = false;
    await waitFor(() => writer.stats().written === 1);
    expect(await count("funnel_events")).toBe(1);
  });

  it("drops the oldest records when the buffer is full, and counts them", async () => {
    const w = wrapDb(t.db);
    let clock = 1_000_000;
    const { writer, log } = writerFor(w.db, { maxBuffer: 10, now: () => clock });
    w.state.down = true;
    for (let i = 0; i < 15; i++) writer.securityEvent(sec(i));
    expect(writer.stats()).toMatchObject({ buffered: 10, dropped: 5 });
    await writer.flush();
    expect(writer.stats()).toMatchObject({ buffered: 10, dropped: 5, failedFlushes: 1 });
    const overflowWarnings = () => log.warn.mock.calls.filter(([, msg]) => String(msg).includes("buffer full")).length;
    expect(overflowWarnings()).toBe(1);

    for (let i = 15; i < 18; i++) writer.securityEvent(sec(i));
    expect(overflowWarnings()).toBe(1); // at most one warning per 10 s
    clock += 10_001;
    writer.securityEvent(sec(18));
    expect(overflowWarnings()).toBe(2);
    expect(writer.stats()).toMatchObject({ buffered: 10, dropped: 9 });

    w.state.down = false;
    await writer.flush();
    expect(await eventTypes()).toEqual(Array.from({ length: 10 }, (_, i) => `e${i + 9}`));
    expect(writer.stats()).toEqual({ buffered: 0, dropped: 9, written: 10, failedFlushes: 1 });
  });

  it("evicts the oldest records even while they are being written", async () => {
    const w = wrapDb(t.db);
    const { writer } = writerFor(w.db, { maxBuffer: 4 });
    let release = () => {};
    w.state.hang = new Promise<void>((r) => (release = r));
    w.state.down = true;
    for (let i = 0; i < 4; i++) writer.securityEvent(sec(i));
    const flushing = writer.flush();
    await waitFor(() => w.statements.length > 0); // e0..e3 in flight
    writer.securityEvent(sec(4));
    writer.securityEvent(sec(5));
    expect(writer.stats()).toMatchObject({ buffered: 4 });
    release();
    w.state.hang = undefined;
    await flushing; // failed: the two evicted records are dropped, not retried
    expect(writer.stats()).toMatchObject({ buffered: 4, dropped: 2 });
    w.state.down = false;
    await writer.flush();
    expect(await eventTypes()).toEqual(["e2", "e3", "e4", "e5"]);
    expect(writer.stats()).toEqual({ buffered: 0, dropped: 2, written: 4, failedFlushes: 1 });
  });

  it("gives up on a write that hangs, and retries it", async () => {
    const w = wrapDb(t.db);
    // The timeout must hold the retry's real write too: CI once saw a write on a loaded machine take
    // longer than 50 ms, and the retry then timed out as well. One second costs the test one second.
    const { writer } = writerFor(w.db, { writeTimeoutMs: 1000 });
    let release = () => {};
    w.state.hang = new Promise<void>((r) => (release = r));
    writer.funnelEvent({ event: "copy_caption" });
    await writer.flush();
    expect(writer.stats()).toMatchObject({ buffered: 1, failedFlushes: 1 });
    w.state.hang = undefined;
    release();
    await writer.flush();
    expect(writer.stats()).toMatchObject({ buffered: 0 });
    expect(await count("funnel_events")).toBeGreaterThanOrEqual(1); // at least once
  });
});

describe("record writer: rejected records", () => {
  it("drops a poison row alone and writes the rest of its batch", async () => {
    const w = wrapDb(t.db);
    const { writer, log } = writerFor(w.db);
    for (let i = 0; i < 20; i++) {
      writer.securityEvent(
        i === 13
          ? sec(i, { severity: "bogus" as SecurityEventInput["severity"], ip: "198.51.100.9", userAgent: "secret-agent" })
          : sec(i),
      );
    }
    const good = randomUUID();
    const bad = randomUUID();
    writer.generation(gen(good));
    writer.generation(gen(bad, { mode: "bogus" as GenerationRecord["mode"] }));
    writer.generation(gen(randomUUID(), { inputText: "guest text needs a user" })); // table check
    await writer.flush();

    expect(await eventTypes()).toEqual(Array.from({ length: 20 }, (_, i) => `e${i}`).filter((e) => e !== "e13"));
    expect(await generation(good)).toMatchObject({ status: "pending" });
    expect(await count("generations")).toBe(1);
    expect(writer.stats()).toEqual({ buffered: 0, dropped: 3, written: 20, failedFlushes: 0 });

    expect(log.error).toHaveBeenCalledTimes(3);
    const [fields] = log.error.mock.calls[0] as [Record<string, unknown>, string];
    expect(fields).toMatchObject({ kind: "security_event", type: "e13", code: "23514" });
    const logged = JSON.stringify(log.error.mock.calls);
    expect(logged).not.toContain("198.51.100.9");
    expect(logged).not.toContain("secret-agent");
    expect(logged).not.toContain("guest text");
    expect(log.warn).not.toHaveBeenCalled();

    // The queue moves on: later records are written normally.
    writer.securityEvent(sec(99));
    await writer.flush();
    expect(await count("security_events")).toBe(20);
  });

  it("keeps an event whose user no longer exists, without the user", async () => {
    const { writer } = writerFor(t.db);
    writer.securityEvent(sec(1, { userId: randomUUID() }));
    writer.funnelEvent({ event: "signup", userId: randomUUID() });
    writer.securityEvent(sec(2, { userId }));
    await writer.flush();
    const rows = await t.db.query<{ event_type: string; user_id: string | null }>(
      "select event_type, user_id::text as user_id from litstatus.security_events order by id",
    );
    expect(rows).toEqual([
      { event_type: "e1", user_id: null },
      { event_type: "e2", user_id: userId },
    ]);
    expect(await count("funnel_events")).toBe(1);
    expect(writer.stats()).toMatchObject({ dropped: 0, written: 3 });
  });
});

describe("record writer: close", () => {
  it("writes what is buffered, stops, and drops later records", async () => {
    const { writer } = writerFor(t.db);
    for (let i = 0; i < 5; i++) writer.securityEvent(sec(i));
    await writer.close();
    expect(await count("security_events")).toBe(5);
    writer.securityEvent(sec(6));
    expect(writer.stats()).toEqual({ buffered: 0, dropped: 1, written: 5, failedFlushes: 0 });
    await writer.flush();
    expect(await count("security_events")).toBe(5);
  });
});
