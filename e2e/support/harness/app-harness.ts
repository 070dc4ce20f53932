/**
 * An in-process LitStatus for integration tests: the real route handlers, the real stores
 * (PGlite + in-memory by default; real PostgreSQL and Redis — through the Upstash-REST test
 * server — when TEST_DATABASE_URL / TEST_REDIS_URL are set) and the real `openai` SDK against
 * the fake OpenAI server. Nothing of ours is mocked.
 */
import { randomUUID } from "node:crypto";
import * as localCallbackRoute from "@/app/api/auth/local/callback/route";
import * as localStartRoute from "@/app/api/auth/local/start/route";
import * as logoutRoute from "@/app/api/auth/logout/route";
import * as sessionRoute from "@/app/api/auth/session/route";
import * as supabaseCallbackRoute from "@/app/api/auth/supabase/callback/route";
import * as supabaseOAuthRoute from "@/app/api/auth/supabase/oauth/route";
import * as supabaseStartRoute from "@/app/api/auth/supabase/start/route";
import * as notFoundRoute from "@/app/api/[...path]/route";
import * as cspReportRoute from "@/app/api/csp-report/route";
import * as eventsRoute from "@/app/api/events/route";
import * as feedbackRoute from "@/app/api/feedback/route";
import * as generateRoute from "@/app/api/generate/route";
import * as generationRoute from "@/app/api/generations/[id]/route";
import * as generationsRoute from "@/app/api/generations/route";
import * as readyRoute from "@/app/api/health/ready/route";
import * as healthRoute from "@/app/api/health/route";
import * as meRoute from "@/app/api/me/route";
import * as quotaRoute from "@/app/api/quota/route";
import * as wishlistRoute from "@/app/api/wishlist/route";
import { installAuthSecurityHook } from "@/lib/auth/security-hook";
import { signSessionToken } from "@/lib/auth/tokens";
import type { Db } from "@/lib/db";
import type { RecordWriter } from "@/lib/events/writer";
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

type Handler = (req: Request, segment: { params: Promise<Record<string, string>> }) => Promise<Response>;
type RouteModule = Record<string, unknown>;

/** Every API route file, by path pattern (the last one is the catch-all, as in Next's router). */
export const ROUTE_FILES: { file: string; pattern: RegExp; module: RouteModule }[] = [
  { file: "app/api/generate/route.ts", pattern: /^\/api\/generate$/, module: generateRoute },
  { file: "app/api/quota/route.ts", pattern: /^\/api\/quota$/, module: quotaRoute },
  { file: "app/api/generations/route.ts", pattern: /^\/api\/generations$/, module: generationsRoute },
  { file: "app/api/generations/[id]/route.ts", pattern: /^\/api\/generations\/(?<id>[^/]+)$/, module: generationRoute },
  { file: "app/api/health/route.ts", pattern: /^\/api\/health$/, module: healthRoute },
  { file: "app/api/health/ready/route.ts", pattern: /^\/api\/health\/ready$/, module: readyRoute },
  { file: "app/api/me/route.ts", pattern: /^\/api\/me$/, module: meRoute },
  { file: "app/api/wishlist/route.ts", pattern: /^\/api\/wishlist$/, module: wishlistRoute },
  { file: "app/api/feedback/route.ts", pattern: /^\/api\/feedback$/, module: feedbackRoute },
  { file: "app/api/events/route.ts", pattern: /^\/api\/events$/, module: eventsRoute },
  { file: "app/api/csp-report/route.ts", pattern: /^\/api\/csp-report$/, module: cspReportRoute },
  { file: "app/api/auth/session/route.ts", pattern: /^\/api\/auth\/session$/, module: sessionRoute },
  { file: "app/api/auth/logout/route.ts", pattern: /^\/api\/auth\/logout$/, module: logoutRoute },
  { file: "app/api/auth/local/start/route.ts", pattern: /^\/api\/auth\/local\/start$/, module: localStartRoute },
  { file: "app/api/auth/local/callback/route.ts", pattern: /^\/api\/auth\/local\/callback$/, module: localCallbackRoute },
  { file: "app/api/auth/supabase/start/route.ts", pattern: /^\/api\/auth\/supabase\/start$/, module: supabaseStartRoute },
  { file: "app/api/auth/supabase/oauth/route.ts", pattern: /^\/api\/auth\/supabase\/oauth$/, module: supabaseOAuthRoute },
  { file: "app/api/auth/supabase/callback/route.ts", pattern: /^\/api\/auth\/supabase\/callback$/, module: supabaseCallbackRoute },
  { file: "app/api/[...path]/route.ts", pattern: /^\/api\/(?<path>.+)$/, module: notFoundRoute },
];

export interface RequestOptions {
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
  /** Client address: the TCP peer, stamped the way the server layer (lib/http/peer-address) does. */
  ip?: string;
  token?: string;
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
    const route = ROUTE_FILES.find((r) => r.pattern.test(url.pathname));
    const handler = route?.module[method] as Handler | undefined;
    if (!route || !handler) throw new Error(`no test route for ${method} ${url.pathname}`);
    const groups = route.pattern.exec(url.pathname)?.groups ?? {};
    // A catch-all segment arrives as the list of its parts, as Next passes it.
    const params: Record<string, unknown> = groups.path === undefined ? groups : { path: groups.path.split("/") };
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
    return handler(new Request(url, { method, headers, body }), { params: Promise.resolve(params as Record<string, string>) });
  };

  const writer = () => globals.__litstatusWriter as RecordWriter | undefined;

  return {
    mode: real ? "real" : "embedded",
    fake,
    db: dbHandle.db,
    kv,
    rest: kvHandle.rest,
    request,
    generate: (body, options = {}) => request("POST", "/api/generate", { ...options, json: body }),
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
      await writer()?.close();
      await fake.close();
      await kvHandle.cleanup();
      await dbHandle.cleanup();
      applyTestEnv();
    },
  };
}
