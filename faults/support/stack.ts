/**
 * One scenario's world: a throwaway PostgreSQL cluster, a throwaway Redis behind the
 * Upstash-REST server, the fake OpenAI server, and N production servers on them. Ports come
 * from the scenario's number, so scenarios never share one (apps 6200-6219, REST 6220-6229,
 * PostgreSQL 6230-6239, Redis 6240-6249, fake OpenAI 6250-6259).
 */
import { randomUUID } from "node:crypto";
import { startFakeOpenAI, type FakeOpenAIServer } from "@/e2e/support/fake-openai";
import { realStoreServerEnv, TEST_AUTH_SECRET } from "@/e2e/support/harness/app-harness";
import { signSessionToken } from "@/lib/auth/tokens";
import { requireBuild, startApp, type App } from "./app";
import { startPostgres, type PostgresCluster } from "./postgres";
import { startRedis, type RedisBehindRest } from "./redis";

export const METRICS_TOKEN = "faults-metrics-token-0123456789abcdef";

export function portsOf(scenario: number) {
  if (!Number.isInteger(scenario) || scenario < 0 || scenario > 9) throw new Error(`scenario number 0-9, not ${scenario}`);
  return {
    apps: [6200 + 2 * scenario, 6201 + 2 * scenario] as const,
    rest: 6220 + scenario,
    postgres: 6230 + scenario,
    redis: 6240 + scenario,
    openai: 6250 + scenario,
  };
}

export interface Stack {
  pg: PostgresCluster;
  redis: RedisBehindRest;
  fake: FakeOpenAIServer;
  apps: App[];
  /** The servers' environment (without PORT). */
  env: Record<string, string>;
  /** A signed-in user (a row in auth.users; its profile comes from the trigger) and a bearer token. */
  signUp(options?: { plan?: "free" | "pro"; role?: "user" | "admin" }): Promise<{ userId: string; token: string }>;
  close(): Promise<void>;
}

export async function startStack(options: { scenario: number; instances: number; env?: Record<string, string> }): Promise<Stack> {
  requireBuild();
  const ports = portsOf(options.scenario);
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) await closer().catch((error: unknown) => console.error("fault suite teardown:", error));
  };
  try {
    const pg = await startPostgres(ports.postgres);
    closers.push(() => pg.destroy());
    const redis = await startRedis(ports.redis, ports.rest);
    closers.push(() => redis.close());
    const fake = await startFakeOpenAI({ port: ports.openai });
    closers.push(() => fake.close());
    const env: Record<string, string> = {
      ...realStoreServerEnv({ db: { url: pg.url }, kv: { rest: redis.rest, prefix: redis.prefix }, fake }),
      METRICS_TOKEN,
      // The suite is the trusted proxy: X-Forwarded-For names the client.
      TRUST_PROXY_HEADER: "x-forwarded-for",
      TRUST_PROXY_HOPS: "1",
      MODERATION: "off",
      HEALTH_CACHE_MS: "0",
      ...options.env,
    };
    const apps: App[] = [];
    closers.push(() => Promise.all(apps.map((app) => app.proc.stop())));
    const names = ["A", "B"];
    const started = await Promise.allSettled(Array.from({ length: options.instances }, (_, i) => startApp(`instance ${names[i] ?? i}`, ports.apps[i] ?? 0, env)));
    for (const result of started) if (result.status === "fulfilled") apps.push(result.value);
    const failed = started.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
    return {
      pg,
      redis,
      fake,
      apps,
      env,
      async signUp({ plan = "free", role = "user" } = {}) {
        const email = `faults-${randomUUID().slice(0, 8)}@example.test`;
        const [row] = await pg.db.query<{ id: string }>(`insert into auth.users (email) values ($1) returning id`, [email]);
        const userId = row!.id;
        await pg.db.query(`update litstatus.profiles set plan = $2, role = $3 where user_id = $1`, [userId, plan, role]);
        return { userId, token: await signSessionToken({ sub: userId, email }, TEST_AUTH_SECRET, 3600) };
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
