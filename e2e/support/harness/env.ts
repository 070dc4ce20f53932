import { parseEnv, type Env } from "@/lib/env";

const globals = globalThis as unknown as Record<string, unknown>;

/** Process-wide singletons the app keeps on globalThis (see lib/env, lib/db, lib/kv, lib/health). */
const SINGLETONS = [
  "__litstatusEnv",
  "__litstatusDb",
  "__litstatusKv",
  "__litstatusReadiness",
  "__litstatusLogger",
  "__litstatusLimiters",
  "__litstatusProvider",
  "__litstatusDenyList",
  "__litstatusEngine",
  "__litstatusWriter",
  "__litstatusBlocklist",
];

/**
 * Points the app's singletons at a test configuration: the env is parsed from `overrides`
 * alone (never the developer's shell) and every cached store is dropped so the next
 * getDb()/getKv() builds from it.
 */
export function applyTestEnv(overrides: Record<string, string> = {}): Env {
  // The blocklist's refresh timer would keep reading the previous store.
  const blocklist = globals.__litstatusBlocklist as { timer?: ReturnType<typeof setInterval> } | undefined;
  if (blocklist?.timer) clearInterval(blocklist.timer);
  for (const key of SINGLETONS) delete globals[key];
  const env = parseEnv({ LOG_LEVEL: "silent", ...overrides });
  globals.__litstatusEnv = env;
  return env;
}
