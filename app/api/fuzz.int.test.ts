/**
 * Malformed input over every API route (admin included): wrong methods, media types, bodies,
 * query strings and path segments, as a guest, a user and an admin. Whatever a client sends,
 * the answer is never a 500, and every error is the one envelope. Deterministic: a seeded PRNG.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, testRoutes, type TestApp } from "@/e2e/support/harness/app-harness";
import type { RouteEntry } from "@/e2e/support/app-server";

const REQUESTS = 10_000;
const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STRINGS = [
  "",
  " ",
  "a",
  "x".repeat(5000),
  "=cmd|' /C calc'!A0",
  "<script>alert(1)</script>",
  "'; drop table litstatus.profiles; --",
  "\u0000",
  "\ud800",
  "../../etc/passwd",
  "%00",
  "%E0%A4%A",
  "null",
  "-1",
  "1e309",
  "00000000-0000-0000-0000-000000000000",
  "not-a-uuid",
  "203.0.113.0/33",
  "::1",
  "😀".repeat(300),
];

/** encodeURIComponent, with a lone surrogate (which it refuses) sent as its raw percent form. */
function encode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return "%ED%A0%80";
  }
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function value(random: () => number, depth = 0): unknown {
  const r = random();
  if (r < 0.25) return pick(random, STRINGS);
  if (r < 0.4) return pick(random, [0, -1, 1.5, 2 ** 53, -(2 ** 63), Number.MAX_VALUE, 1e-300]);
  if (r < 0.5) return pick(random, [true, false, null]);
  if (depth > 2) return null;
  if (r < 0.75) return Array.from({ length: Math.floor(random() * 4) }, () => value(random, depth + 1));
  const keys = ["text", "mode", "lang", "platform", "email", "note", "rating", "generationId", "confirm", "everywhere", "event", "sessionId", "ip", "cidr", "reason", "ttlSeconds", "plan", "role", "disabled", "amount", "action", "seconds", "__proto__", "constructor"];
  return Object.fromEntries(Array.from({ length: Math.floor(random() * 5) }, () => [pick(random, keys), value(random, depth + 1)]));
}

function body(random: () => number): { body?: BodyInit; type?: string } {
  const r = random();
  if (r < 0.15) return {};
  if (r < 0.55) return { body: JSON.stringify(value(random)), type: "application/json" };
  if (r < 0.65) return { body: "{not json", type: "application/json" };
  if (r < 0.72) return { body: JSON.stringify(value(random)), type: "text/plain" };
  if (r < 0.78) return { body: new Uint8Array(Array.from({ length: 64 }, () => Math.floor(random() * 256))), type: "application/octet-stream" };
  if (r < 0.84) {
    const form = new FormData();
    form.set(pick(random, ["text", "image", "mode", "x"]), pick(random, STRINGS));
    if (random() < 0.5) form.set("image", new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3])]), "x.png");
    return { body: form };
  }
  if (r < 0.9) return { body: "x".repeat(200_000), type: "application/json" };
  return { body: JSON.stringify(value(random)), type: pick(random, ["application/xml", "multipart/form-data", "application/json; charset=utf-16", ""]) };
}

function query(random: () => number): string {
  const keys = ["limit", "offset", "status", "days", "by", "type", "severity", "ip", "userId", "from", "to", "q", "provider", "cached", "actor", "action", "token", "next", "code", "provider", "x"];
  const n = Math.floor(random() * 4);
  const parts = Array.from({ length: n }, () => `${encode(pick(random, keys))}=${encode(JSON.stringify(value(random)) ?? "")}`);
  if (random() < 0.1) parts.push("%zz=%E0%A4%A");
  return parts.length ? `?${parts.join("&")}` : "";
}

function path(random: () => number, route: RouteEntry): string {
  return route.path
    .replace(/\[\.\.\.[^\]]+\]/g, () => pick(random, ["a", "a/b", "%00", "x".repeat(300)]))
    .replace(/\[[^\]]+\]/g, () => encode(pick(random, [...STRINGS.filter(Boolean), crypto.randomUUID()])));
}

let app: TestApp;
let tokens: (string | undefined)[];

beforeAll(async () => {
  app = await startTestApp({ GUEST_DAILY_LIMIT: "1000000" });
  const user = await app.signUp();
  const admin = await app.signUp();
  await app.db.query(`update litstatus.profiles set role = 'admin' where user_id = $1`, [admin.userId]);
  // Admin writes stay harmless here: the fuzz never sends a valid block target for 203.0.113.10.
  tokens = [undefined, user.token, admin.token, "Bearer-garbage.x.y"];
}, 60_000);

afterAll(async () => {
  await app.close();
});

describe("fuzz: malformed requests over every API route", () => {
  it(`${REQUESTS} requests, 0 answers of 500, every error in the envelope`, async () => {
    const random = prng(20261129);
    const routes = await testRoutes();
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const route = pick(random, routes);
      // Mostly the methods the route has (to reach its input checks), sometimes any method.
      const own = METHODS.filter((m) => m !== "OPTIONS" && m !== "HEAD" && !((route.handlers[m] as { routeName?: string } | undefined)?.routeName ?? ".method_not_allowed").endsWith(".method_not_allowed"));
      const method = random() < 0.85 && own.length > 0 ? pick(random, own) : pick(random, METHODS);
      const url = `${path(random, route)}${query(random)}`;
      const { body: payload, type } = method === "GET" || method === "HEAD" ? {} : body(random);
      const headers: Record<string, string> = {};
      if (type) headers["content-type"] = type;
      if (random() < 0.1) headers["idempotency-key"] = pick(random, ["k", "x".repeat(300), "ü", "key-1"]);
      if (random() < 0.05) headers.origin = "https://evil.example";
      const token = pick(random, tokens);
      let res: Response;
      try {
        res = await app.request(method, url, { token, headers, body: payload, ip: `198.51.100.${1 + (i % 200)}` });
      } catch (error) {
        // A URL the harness cannot even build (Next would 404 it before any route runs).
        if (error instanceof TypeError || (error instanceof Error && error.message.startsWith("no test route"))) continue;
        throw error;
      }
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status === 500) failures.push(`${method} ${url} → 500 ${await res.text()}`);
      if (res.status >= 400 && method !== "HEAD") {
        const text = await res.text();
        type Envelope = { error?: { code?: unknown; message?: unknown; requestId?: unknown } } | null;
        const envelope = ((): Envelope => {
          try {
            return JSON.parse(text) as Envelope;
          } catch {
            return null;
          }
        })();
        const ok =
          typeof envelope?.error?.code === "string" &&
          typeof envelope.error.message === "string" &&
          envelope.error.requestId === res.headers.get("x-request-id");
        if (!ok) failures.push(`${method} ${url} → ${res.status} not an envelope: ${text.slice(0, 200)}`);
      } else {
        await res.body?.cancel();
      }
    }
    console.log(`fuzz: ${REQUESTS} requests over ${routes.length} route files; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`);
    expect(failures.slice(0, 20)).toEqual([]);
    expect(statuses.get(500) ?? 0).toBe(0);
  }, 600_000);
});
