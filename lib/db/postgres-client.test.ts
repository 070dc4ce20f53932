import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { createPostgresDb, reconnectBackoffSeconds, RECONNECT_BACKOFF_MAX_SECONDS } from "./postgres-client";

/** A loopback port nothing listens on (bound once, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("reconnecting to a server that went away", () => {
  it("waits at most RECONNECT_BACKOFF_MAX_SECONDS between attempts, however many failed", () => {
    for (let retries = 0; retries <= 50; retries++) expect(reconnectBackoffSeconds(retries)).toBeLessThanOrEqual(RECONNECT_BACKOFF_MAX_SECONDS);
    expect(reconnectBackoffSeconds(0)).toBeLessThanOrEqual(0.05);
  });

  it("keeps failing fast while the database is down (postgres.js alone would make the 7th query wait 3.6-7.3 s)", async () => {
    const db = createPostgresDb({ url: `postgres://postgres@127.0.0.1:${await closedPort()}/none`, max: 1 });
    try {
      const waits: number[] = [];
      for (let i = 0; i < 7; i++) {
        const started = performance.now();
        await expect(db.query("select 1")).rejects.toMatchObject({ code: "ECONNREFUSED" });
        waits.push(performance.now() - started);
      }
      expect(waits.filter((ms) => ms > RECONNECT_BACKOFF_MAX_SECONDS * 1000 + 500)).toEqual([]);
    } finally {
      await db.close();
    }
  });
});
