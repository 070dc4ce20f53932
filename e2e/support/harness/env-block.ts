import { afterAll, beforeAll } from "vitest";
import { getEnv, type Env } from "@/lib/env";

/**
 * Overrides configuration knobs for one describe block and restores them after it. Routes and
 * the engine read getEnv() on every request, so a running test app picks the values up without
 * a restart (which costs seconds of embedded-database start-up).
 */
export function envForBlock(overrides: Partial<Env>): void {
  let saved: Partial<Env> = {};
  beforeAll(() => {
    const env = getEnv();
    saved = Object.fromEntries(Object.keys(overrides).map((key) => [key, env[key as keyof Env]]));
    Object.assign(env, overrides);
  });
  afterAll(() => {
    Object.assign(getEnv(), saved);
  });
}
