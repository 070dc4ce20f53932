/**
 * An in-process LitStatus for integration tests: the real route handlers, the real stores
 * (PGlite + in-memory by default; real PostgreSQL and Redis — through the Upstash-REST test
 * server — when TEST_DATABASE_URL / TEST_REDIS_URL are set) and the real `openai` SDK against
 * the fake OpenAI server. Nothing of ours is mocked.
 */
import { randomUUID } from "node:crypto";
import { loadRoutes, matchRoute, type RouteEntry } from "@/e2e/support/app-server";
import { installAuthSecurityHook } from "@/lib/auth/security-hook";
import { signSessionToken } from "@/lib/auth/tokens";
import type { Db } from "@/lib/db";
import type { RecordWriter } from "@/lib/events/writer";
import { afterResponseIdle } from "@/lib/util/after-response";
import { PEER_ADDRESS_HEADER, peerHeaderValue, simulatePeerAddressLayer } from "@/lib/http/peer-address";
import { getKv, type AppKv } from "@/lib/kv";
import { startFakeOpenAI, type FakeOpenAIServer } from "@/e2e/support/fake-openai";
import type { UpstashRestServer } from "@/e2e/support/upstash-rest-server";
import { applyTestEnv } from "./env";
import { openTestDb } from "./stores-db";
import { openTestKv } from "./stores-kv";

export const TEST_AUTH_SECRET = "test-secret-for-integration-tests-0123456789";

/**
 * The environment of an app server process (spawnAppServer) on the real stores: the test
 * database, Redis through the Upstash-REST test server, the fake OpenAI server, no burst limits.
 */
export function realStoreServerEnv(stores: { db: { url?: string }; kv: { rest?: UpstashRestServer; prefix: string }; fake: FakeOpenAIServer }): Record<string, string> {
  if (!stores.db.url || !stores.kv.rest) throw new Error("realStoreServerEnv needs TEST_DATABASE_URL and TEST_REDIS_URL");
  return {
    DATABASE_URL: stores.db.url,
    DATABASE_POOL_MAX: "4",
    UPSTASH_REDIS_REST_URL: stores.kv.rest.url,
    UPSTASH_REDIS_REST_TOKEN: stores.kv.rest.token,
    REDIS_KEY_PREFIX: stores.kv.prefix,
    REDIS_TIMEOUT_MS: "5000",
    OPENAI_API_KEY: "sk-test",
    OPENAI_BASE_URL: `${stores.fake.url}/v1`,
    AUTH_SECRET: TEST_AUTH_SECRET,
    RATE_LIMIT_GENERATE_PER_MIN: "100000",
    RATE_LIMIT_API_PER_MIN: "100000",
    LOG_LEVEL: "warn",
  };
}

/**
 * Every API route file under app/api, loaded from disk the way Next's router sees them (most
 * specific first, the catch-all last): a new route is served here without registering it.
 */
export function testRoutes(): Promise<RouteEntry[]> {
  const globals = globalThis as unknown as { __litstatusTestRoutes?: Promise<RouteEntry[]> };
  globals.__litstatusTestRoutes ??= loadRoutes();
  return globals.__litstatusTestRoutes;
}

export interface RequestOptions {
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
  /** Client address: the TCP peer, stamped the way the server layer (lib/http/peer-address) does. */
  ip?: string;
  token?: string;
  /**
   * generate() only: ask for server-sent events and hand back the equivalent JSON answer (see
   * `collapseStream`). Defaults to TEST_GENERATE_PATH=sse, so the engine suites run over both paths.
   */
  stream?: boolean;
}

/** One server-sent event of POST /api/generate. */
export interface StreamEvent {
  event: string;
  data: unknown;
}

export function parseEvents(text: string): StreamEvent[] {
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const lines = block.split("\n");
      const event = lines.find((l) => l.startsWith("event: "))?.slice(7) ?? "message";
      const data = lines
        .filter((l) => l.startsWith("data: "))
        .map((l) => l.slice(6))
        .join("\n");
      return { event, data: JSON.parse(data) as unknown };
    });
}

/**
 * A streamed answer as the JSON path would have given it: `done` → 200 with its body; `error` →
 * the envelope with the event's status and Retry-After. A JSON answer (refused before the model
 * started) passes through. The events are kept on the response as `events`. Checks the stream's
 * own grammar on the way: exactly one final event, and it comes last.
 */
export async function collapseStream(res: Response): Promise<Response & { events?: StreamEvent[] }> {
  if (!(res.headers.get("content-type") ?? "").startsWith("text/event-stream")) return res;
  const events = parseEvents(await res.text());
  const finals = events.filter((e) => e.event === "done" || e.event === "error");
  if (finals.length !== 1 || events.at(-1) !== finals[0]) throw new Error(`a stream must end with one done or error event: ${JSON.stringify(events.map((e) => e.event))}`);
  const last = finals[0]!;
  const headers = new Headers(res.headers);
  headers.set("content-type", "application/json; charset=utf-8");
  let collapsed: Response;
  if (last.event === "done") {
    collapsed = new Response(JSON.stringify(last.data), { status: 200, headers });
  } else {
    const { status, retryAfterSeconds, ...envelope } = last.data as { status: number; retryAfterSeconds?: number };
    if (retryAfterSeconds !== undefined) headers.set("retry-after", String(retryAfterSeconds));
    collapsed = new Response(JSON.stringify(envelope), { status, headers });
  }
  return Object.assign(collapsed, { events });
}

export interface TestApp {
  mode: "embedded" | "real";
  fake: FakeOpenAIServer;
  db: Db;
  kv: AppKv;
  /** The Upstash-REST test server (real mode only): stop()/restart() simulate a Redis outage. */
  rest?: UpstashRestServer;
  request(method: string, path: string, options?: RequestOptions): Promise<Response>;
  generate(body: unknown, options?: RequestOptions): Promise<Response>;
  /** Creates a user (profile via the auth.users trigger) and returns a bearer token for them. */
  signUp(email?: string, plan?: "free" | "pro"): Promise<{ userId: string; token: string }>;
  /** A user's usage today (net of refunds) and their ledger's charges and refunds, all days. */
  userUsage(userId: string): Promise<{ used: number; charges: number; refunds: number }>;
  /** Writes buffered records (generations, events) now. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const fake = await startFakeOpenAI();
  const dbHandle = await openTestDb();
  const kvHandle = await openTestKv();
  const real = kvHandle.kind === "upstash";
  applyTestEnv({
    OPENAI_API_KEY: "sk-test",
    OPENAI_BASE_URL: `${fake.url}/v1`,
    AUTH_SECRET: TEST_AUTH_SECRET,
    RATE_LIMIT_GENERATE_PER_MIN: "100000",
    RATE_LIMIT_API_PER_MIN: "100000",
    RATE_LIMIT_SIGNIN_PER_MIN: "100000",
    HEALTH_CACHE_MS: "0",
    ...(real && kvHandle.rest
      ? {
          UPSTASH_REDIS_REST_URL: kvHandle.rest.url,
          UPSTASH_REDIS_REST_TOKEN: kvHandle.rest.token,
          REDIS_KEY_PREFIX: kvHandle.prefix,
          // Generous: a loaded CI machine must not trip the in-memory fallback mid-test.
          REDIS_TIMEOUT_MS: "5000",
        }
      : {}),
    ...env,
  });
  const globals = globalThis as unknown as Record<string, unknown>;
  globals.__litstatusDb = Promise.resolve(dbHandle.db);
  installAuthSecurityHook();
  const kv = getKv();

  const request = async (method: string, path: string, options: RequestOptions = {}): Promise<Response> => {
    const url = new URL(path, "http://litstatus.test");
    const match = matchRoute(await testRoutes(), url.pathname);
    const handler = match?.route.handlers[method as keyof RouteEntry["handlers"]];
    if (!match || !handler) throw new Error(`no test route for ${method} ${url.pathname}`);
    const headers = new Headers(options.headers);
    // No Node server in between: stamp the peer as the server layer would (overriding any forgery).
    simulatePeerAddressLayer();
    headers.set(PEER_ADDRESS_HEADER, peerHeaderValue(options.ip ?? "203.0.113.10"));
    if (options.token) headers.set("authorization", `Bearer ${options.token}`);
    let body = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
    }
    return handler(new Request(url, { method, headers, body }), { params: Promise.resolve(match.params) });
  };

  const writer = () => globals.__litstatusWriter as RecordWriter | undefined;

  return {
    mode: real ? "real" : "embedded",
    fake,
    db: dbHandle.db,
    kv,
    rest: kvHandle.rest,
    request,
    async generate(body, options = {}) {
      const stream = options.stream ?? process.env.TEST_GENERATE_PATH === "sse";
      if (!stream) return request("POST", "/api/generate", { ...options, json: body });
      const headers = { accept: "text/event-stream", ...options.headers };
      return collapseStream(await request("POST", "/api/generate", { ...options, headers, json: body }));
    },
    async signUp(email = `user-${randomUUID().slice(0, 8)}@example.test`, plan = "free") {
      const [row] = await dbHandle.db.query<{ id: string }>(`insert into auth.users (email) values ($1) returning id`, [email]);
      const userId = row!.id;
      if (plan === "pro") await dbHandle.db.query(`update litstatus.profiles set plan = 'pro' where user_id = $1`, [userId]);
      const token = await signSessionToken({ sub: userId, email }, TEST_AUTH_SECRET, 3600);
      return { userId, token };
    },
    async userUsage(userId) {
      const [usage] = await dbHandle.db.query<{ used: number }>(`select used from litstatus.usage_daily where user_id = $1`, [userId]);
      const rows = await dbHandle.db.query<{ kind: string; n: number }>(
        `select kind, count(*)::int as n from litstatus.usage_ledger where user_id = $1 group by kind`,
        [userId],
      );
      const count = (kind: string) => rows.find((r) => r.kind === kind)?.n ?? 0;
      return { used: usage?.used ?? 0, charges: count("charge"), refunds: count("refund") };
    },
    async flush() {
      await writer()?.flush();
    },
    async close() {
      // Settlements still landing (a miss answers before its own: settle.ts) go first.
      await afterResponseIdle();
      await writer()?.close();
      await fake.close();
      await kvHandle.cleanup();
      await dbHandle.cleanup();
      applyTestEnv();
    },
  };
}
