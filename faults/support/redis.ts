/**
 * A throwaway redis-server the suite may kill (its own port, 6240-6249, no persistence), behind
 * the Upstash-REST test server (e2e/support/upstash-rest-server.ts, port 6220-6229): the app
 * talks Upstash REST to it, as in production. `kill()` is SIGKILL; `restart()` starts a fresh
 * redis-server on the same port (empty: nothing was saved), and the REST server reconnects.
 * Never the machine's Redis on 6379.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { startUpstashRestServer, type UpstashRestServer } from "@/e2e/support/upstash-rest-server";
import { start, waitUntil, type Proc } from "./processes";

/** How long redis-server may take to answer PING after it is spawned. */
const READY_BOUND_MS = 10_000;

export interface RedisBehindRest {
  port: number;
  /** The REST server the app is given (UPSTASH_REDIS_REST_URL / _TOKEN). */
  rest: UpstashRestServer;
  /** Every key the app writes starts with it (REDIS_KEY_PREFIX). */
  prefix: string;
  kill(): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

async function pong(port: number): Promise<boolean> {
  const client = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } finally {
    client.disconnect();
  }
}

export async function startRedis(port: number, restPort: number): Promise<RedisBehindRest> {
  const dir = mkdtempSync(path.join(tmpdir(), "litstatus-faults-redis-"));
  let server: Proc | undefined;
  const launch = async (): Promise<void> => {
    const proc = start(`redis-server :${port}`, "redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir]);
    server = proc;
    await waitUntil(`redis-server on ${port}`, () => pong(port), READY_BOUND_MS, {
      detail: () => proc.output(),
      giveUpIf: () => (proc.running() ? undefined : "exited"),
    });
  };
  await launch();
  let rest: UpstashRestServer;
  try {
    rest = await startUpstashRestServer({ redisUrl: `redis://127.0.0.1:${port}`, port: restPort });
  } catch (error) {
    await server?.stop("SIGKILL");
    throw error;
  }
  return {
    port,
    rest,
    prefix: `faults:${randomBytes(4).toString("hex")}:`,
    async kill() {
      await server?.stop("SIGKILL");
    },
    restart: launch,
    async close() {
      await rest.close();
      await server?.stop("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
