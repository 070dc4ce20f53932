import { createServerClient } from "@supabase/ssr";
import type { SupabaseClient, WebSocketLikeConstructor } from "@supabase/supabase-js";
import { getEnv, type Env } from "@/lib/env";
import { authMode } from "./mode";
import {
  hardenCookie,
  isCodeVerifierCookie,
  isSupabaseAuthCookie,
  supabaseStorageKey,
  type HardenedCookie,
  type RequestCookie,
} from "./supabase-cookie";

/**
 * The one place a Supabase client is built (route handlers through supabase-server.ts, and the
 * proxy). Server-side PKCE over cookies: the browser never runs supabase-js, so every cookie
 * can be HttpOnly. No "server-only": the proxy imports this module.
 */

export interface SupabaseAuthConfig {
  url: string;
  anonKey: string;
  /** `Secure` on every cookie (production). */
  secure: boolean;
}

/** What the client reads from the request and writes to the response. */
export interface SupabaseCookieBridge {
  getAll(): RequestCookie[];
  /** Hardened cookies to set on the response, plus the no-cache headers @supabase/ssr asks for. */
  setAll(cookies: HardenedCookie[], headers: Record<string, string>): void;
}

/** Each Supabase Auth call gets this long before it fails. */
export const SUPABASE_FETCH_TIMEOUT_MS = 5000;
/**
 * What one request may spend on Supabase Auth in all, retries included: auth-js retries a
 * refresh that fails with a network error or a 502/503/504 for up to 30 s. Pages get less.
 */
export const SUPABASE_ROUTE_BUDGET_MS = 8000;
export const SUPABASE_PROXY_BUDGET_MS = 3000;

/** withinBudget's answer when the client's time budget ran out first. */
export const OUT_OF_TIME = Symbol("supabase auth out of time");

const budgets = new WeakMap<SupabaseClient, AbortSignal>();

/**
 * Realtime is never used here, but supabase-js builds its client eagerly and Node 20 has no
 * global WebSocket: a transport that refuses to connect keeps the constructor happy.
 */
class NoRealtimeTransport {
  constructor() {
    throw new Error("Supabase Realtime is not used by this app");
  }
}
const noRealtime = NoRealtimeTransport as unknown as WebSocketLikeConstructor;

/** fetch with a per-call timeout that, once the budget is spent, fails at once without a request. */
function budgetedFetch(budget: AbortSignal): typeof fetch {
  return (input, init) => {
    if (budget.aborted) return Promise.reject(new TypeError("Supabase Auth time budget spent"));
    const signals = [budget, AbortSignal.timeout(SUPABASE_FETCH_TIMEOUT_MS), ...(init?.signal ? [init.signal] : [])];
    return fetch(input, { ...init, signal: AbortSignal.any(signals) });
  };
}

/**
 * The @supabase/ssr server client over a request's cookies; every cookie it writes is hardened.
 * One client per request, with `budgetMs` for all its Auth calls (see withinBudget).
 */
export function createSupabaseCookieClient(
  config: SupabaseAuthConfig,
  bridge: SupabaseCookieBridge,
  budgetMs: number = SUPABASE_ROUTE_BUDGET_MS,
): SupabaseClient {
  const storageKey = supabaseStorageKey(config.url);
  const budget = AbortSignal.timeout(budgetMs);
  const client = createServerClient(config.url, config.anonKey, {
    cookieOptions: { name: storageKey, path: "/", sameSite: "lax", httpOnly: true, secure: config.secure },
    cookies: {
      getAll: () => bridge.getAll(),
      setAll: (cookies, headers) => {
        bridge.setAll(
          cookies.map(({ name, value, options }) => hardenCookie(name, value, options, config.secure)),
          headers,
        );
      },
    },
    auth: { flowType: "pkce" },
    realtime: { transport: noRealtime },
    global: { fetch: budgetedFetch(budget) },
  });
  budgets.set(client, budget);
  return client;
}

/**
 * The call's result, or OUT_OF_TIME once the client's budget is spent. auth-js keeps retrying a
 * failing refresh on timers for up to 30 s; past the budget those retries send nothing and their
 * result is dropped.
 */
export function withinBudget<T>(client: SupabaseClient, call: Promise<T>): Promise<T | typeof OUT_OF_TIME> {
  const budget = budgets.get(client);
  if (!budget) return call;
  return new Promise<T | typeof OUT_OF_TIME>((resolve, reject) => {
    const onAbort = () => resolve(OUT_OF_TIME);
    if (budget.aborted) onAbort();
    else budget.addEventListener("abort", onAbort, { once: true });
    call.then(
      (value) => {
        budget.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        budget.removeEventListener("abort", onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

export interface RefreshResult {
  /** Cookies to set on the response (and on the request, so this render sees them). */
  cookies: HardenedCookie[];
  headers: Record<string, string>;
  /** Why a due refresh failed (Supabase's error code), for the log. */
  error?: string;
}

/**
 * Keeps a page visitor's Supabase session fresh. Nothing happens (no client, no network) unless
 * the request carries the session cookie. `getSession()` reads it, and only when the access
 * token expires within supabase-js's margin (90 s) spends one call on the refresh token; the
 * rotated session comes back through `setAll`. It does not authenticate anyone: routes verify
 * the access token themselves (lib/auth/viewer.ts).
 */
export async function refreshSupabaseSession(config: SupabaseAuthConfig, requestCookies: RequestCookie[]): Promise<RefreshResult> {
  const result: RefreshResult = { cookies: [], headers: {} };
  const storageKey = supabaseStorageKey(config.url);
  const hasSession = requestCookies.some((c) => isSupabaseAuthCookie(c.name, storageKey) && !isCodeVerifierCookie(c.name, storageKey));
  if (!hasSession) return result;
  let open = true;
  const supabase = createSupabaseCookieClient(
    config,
    {
      getAll: () => requestCookies,
      setAll(cookies, headers) {
        if (!open) return;
        result.cookies.push(...cookies);
        Object.assign(result.headers, headers);
      },
    },
    SUPABASE_PROXY_BUDGET_MS,
  );
  // A refresh failure (revoked refresh token, Auth down or slow) is not fatal: the page renders,
  // and the viewer decides what the (possibly expired) token is worth.
  const outcome = await withinBudget(supabase, supabase.auth.getSession());
  open = false;
  if (outcome === OUT_OF_TIME) return { cookies: [], headers: {}, error: "timeout" };
  if (outcome.error) result.error = outcome.error.code ?? outcome.error.name;
  return result;
}

/**
 * The Supabase project the browser signs in with, or null: local mode, or only
 * SUPABASE_JWT_SECRET (bearer tokens verify, but no sign-in runs). The proxy reads it too:
 * getEnv() parses once per process, and lib/env.ts's `server-only` marker resolves to an empty
 * module in the proxy bundle, which Next builds in a server layer.
 */
export function supabaseSignInConfig(env: Env = getEnv()): SupabaseAuthConfig | null {
  if (authMode(env) !== "supabase" || env.SUPABASE_URL === undefined || env.SUPABASE_ANON_KEY === undefined) return null;
  return { url: env.SUPABASE_URL, anonKey: env.SUPABASE_ANON_KEY, secure: env.NODE_ENV === "production" };
}
