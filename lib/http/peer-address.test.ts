import { createServer, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientIp } from "./client-ip";
import { PEER_ADDRESS_HEADER, REQUEST_ID_HEADER, installPeerAddressLayer, peerAddressLayerInstalled, readPeerAddress } from "./peer-address";

const globals = globalThis as unknown as { __litstatusPeerLayer?: unknown; __litstatusPeerWarned?: boolean };

interface Seen {
  headers: IncomingHttpHeaders;
  raw: string[];
}

describe("the peer-address layer on a real node:http server", () => {
  let url: URL;
  let seen: Seen[] = [];
  const server = createServer((req, res) => {
    seen.push({ headers: { ...req.headers }, raw: [...req.rawHeaders] });
    res.end("ok");
  });

  beforeAll(async () => {
    installPeerAddressLayer();
    installPeerAddressLayer(); // idempotent: one patch, one stamp
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Raw headers exactly as given (several copies and odd cases allowed); the response's headers. */
  const send = (headers: [string, string][]): Promise<IncomingHttpHeaders> =>
    new Promise((resolve, reject) => {
      // A flat raw-header array keeps duplicates and case; Node then adds no Host itself.
      const raw = [["Host", url.host], ...headers].flat() as unknown as Record<string, string>;
      const req = httpRequest(url, { method: "GET", headers: raw }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.headers));
      });
      req.on("error", reject);
      req.end();
    });

  const toHeaders = (s: Seen): Headers => {
    const h = new Headers();
    for (let i = 0; i + 1 < s.raw.length; i += 2) h.append(s.raw[i]!, s.raw[i + 1]!);
    return h;
  };

  it("replaces every inbound copy of the header by the socket's address, in headers and rawHeaders", async () => {
    seen = [];
    await send([
      ["X-LitStatus-Peer", "6.6.6.6"],
      ["x-litstatus-peer", "0123456789abcdef0123456789abcdef 7.7.7.7"],
      ["X-Forwarded-For", "8.8.8.8"],
    ]);
    const [s] = seen;
    expect(s).toBeDefined();
    const rawPeers = s!.raw.filter((_, i) => i % 2 === 0 && s!.raw[i]!.toLowerCase() === PEER_ADDRESS_HEADER);
    expect(rawPeers).toHaveLength(1);
    expect(String(s!.headers[PEER_ADDRESS_HEADER])).toMatch(/^[0-9a-f]{32} 127\.0\.0\.1$/);
    // What a route handler reads, from either view of the headers.
    expect(readPeerAddress(toHeaders(s!))).toBe("127.0.0.1");
    expect(readPeerAddress(new Headers({ [PEER_ADDRESS_HEADER]: String(s!.headers[PEER_ADDRESS_HEADER]) }))).toBe("127.0.0.1");
    expect(clientIp(new Request("http://x", { headers: toHeaders(s!) }), { header: "none", hops: 1 })).toBe("127.0.0.1");
  });

  it("stamps requests without the header too", async () => {
    seen = [];
    await send([]);
    expect(readPeerAddress(toHeaders(seen[0]!))).toBe("127.0.0.1");
  });

  /** The one request id the handler saw (both views agree) and the one the response carried. */
  const ids = async (headers: [string, string][]) => {
    seen = [];
    const response = await send(headers);
    const [s] = seen;
    const raw = s!.raw.filter((_, i) => i % 2 === 1 && s!.raw[i - 1]!.toLowerCase() === REQUEST_ID_HEADER);
    expect(raw).toHaveLength(1);
    expect(s!.headers[REQUEST_ID_HEADER]).toBe(raw[0]);
    return { request: raw[0], response: response[REQUEST_ID_HEADER] };
  };

  it("gives every request an id, on the request the handler reads and on its response", async () => {
    const first = await ids([]);
    expect(first.request).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.response).toBe(first.request);
    const second = await ids([]);
    expect(second.request).not.toBe(first.request);
  });

  it("keeps a well-formed inbound id (a proxy's trace), and replaces a hostile or repeated one", async () => {
    expect(await ids([["X-Request-Id", "0123456789abcdef0123456789abcdef"]])).toEqual({
      request: "0123456789abcdef0123456789abcdef",
      response: "0123456789abcdef0123456789abcdef",
    });
    for (const headers of [
      [["X-Request-Id", "<script>alert(1)</script>"]],
      [["X-Request-Id", "short"]],
      [["X-Request-Id", "first-id-0001"], ["x-request-id", "second-id-0002"]],
    ] as [string, string][][]) {
      const { request, response } = await ids(headers);
      expect(request, JSON.stringify(headers)).toMatch(/^[0-9a-f-]{36}$/);
      expect(response).toBe(request);
    }
  });
});

describe("without the layer", () => {
  it("trusts no peer header and warns once per process", () => {
    const saved = globals.__litstatusPeerLayer;
    const savedWarned = globals.__litstatusPeerWarned;
    delete globals.__litstatusPeerLayer;
    delete globals.__litstatusPeerWarned;
    try {
      expect(peerAddressLayerInstalled()).toBe(false);
      const forged = new Request("http://x", { headers: { [PEER_ADDRESS_HEADER]: "abc 6.6.6.6", "x-forwarded-for": "6.6.6.6" } });
      expect(clientIp(forged, { header: "none", hops: 1 })).toBeNull();
      expect(globals.__litstatusPeerWarned).toBe(true);
      expect(clientIp(forged, { header: "none", hops: 1 })).toBeNull();
    } finally {
      globals.__litstatusPeerLayer = saved;
      globals.__litstatusPeerWarned = savedWarned;
    }
  });
});
