/** Binding the test servers (app, fake OpenAI, fake GoTrue, Upstash REST bridge) to a port. */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/** `http://host:port`, with an IPv6 host in brackets. */
export function baseUrl(host: string, port: number): string {
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** Listens on `port` (0: a free one) and answers the base URL; a failure to bind (EADDRINUSE) rejects. */
export async function listen(server: Server, port = 0, host = "127.0.0.1"): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return baseUrl(host, (server.address() as AddressInfo).port);
}

/** `PORT` from the environment for a server run as a script: 0 (a free port) when unset. */
export function portFromEnv(): number {
  const text = process.env.PORT ?? "0";
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65_535) throw new Error(`PORT must be 0-65535, got "${text}"`);
  return port;
}
