/**
 * The browser suite runs in E2E_WORKERS workers (default 2), each against its own app server,
 * fake OpenAI server, embedded data directory and PostgreSQL database: its "slot", Playwright's
 * parallel index. What one test changes for the whole server (the breaker, the cache, the
 * blocklist, the fake model's behaviour) then never reaches a test running beside it, and a
 * slot's server sees its worker's tests one at a time, as with a single worker.
 *
 * playwright.config.ts starts the servers; tests reach theirs through `baseURL` (e2e/support/test.ts)
 * and the helpers here. With E2E_BASE_URL (a server you started) there is one slot.
 */
export const E2E_WORKERS = process.env.E2E_BASE_URL ? 1 : Math.max(1, Number(process.env.E2E_WORKERS ?? 2));
const APP_PORT = Number(process.env.E2E_APP_PORT ?? 3100);
const FAKE_OPENAI_PORT = Number(process.env.E2E_FAKE_OPENAI_PORT ?? 4010);

export const SLOTS = Array.from({ length: E2E_WORKERS }, (_, slot) => slot);

/** This worker's slot (0 outside a worker, e.g. in the config). */
export function currentSlot(): number {
  return Number(process.env.TEST_PARALLEL_INDEX ?? 0);
}

export function appPort(slot: number): number {
  return APP_PORT + slot;
}

export function appUrl(slot: number = currentSlot()): string {
  return process.env.E2E_BASE_URL ?? `http://127.0.0.1:${appPort(slot)}`;
}

export function fakeOpenAiPort(slot: number): number {
  return FAKE_OPENAI_PORT + slot;
}

/** The fake OpenAI server's base URL (its control API is under /__control; E2E_FAKE_OPENAI_URL: yours). */
export function fakeOpenAiUrl(slot: number = currentSlot()): string {
  if (process.env.E2E_BASE_URL && process.env.E2E_FAKE_OPENAI_URL) return process.env.E2E_FAKE_OPENAI_URL;
  return `http://127.0.0.1:${fakeOpenAiPort(slot)}`;
}

/**
 * The secrets the suite's app servers are given: e2e/secrets.spec.ts checks that none of them
 * reaches the browser or the server's log.
 */
export const E2E_SERVER_SECRETS = {
  AUTH_SECRET: "e2e-only-signing-secret-0123456789abcdef",
  OPENAI_API_KEY: "sk-fake-e2e-0123456789abcdef",
  METRICS_TOKEN: "e2e-metrics-token-0123456789abcdef",
  CRON_SECRET: "e2e-cron-secret-0123456789abcdef",
} as const;

/** The app server's log: browser tests read local sign-in links from it (E2E_SERVER_LOG: yours). */
export function serverLog(slot: number = currentSlot()): string {
  if (process.env.E2E_BASE_URL && process.env.E2E_SERVER_LOG) return process.env.E2E_SERVER_LOG;
  return `e2e/.artifacts/server-${slot}.log`;
}

/**
 * The slot's PostgreSQL database, when the suite made them (E2E_DATABASE_URLS, one per slot,
 * comma-separated, set by the config; with E2E_BASE_URL, E2E_DATABASE_URL if you give it);
 * undefined on embedded PGlite.
 */
export function databaseUrl(slot: number = currentSlot()): string | undefined {
  if (process.env.E2E_BASE_URL) return process.env.E2E_DATABASE_URL || undefined;
  return (process.env.E2E_DATABASE_URLS ?? "").split(",")[slot] || undefined;
}
