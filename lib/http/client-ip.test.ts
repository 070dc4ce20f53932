import { beforeEach, describe, expect, it } from "vitest";
import { clientIp, clientIpFrom, type ClientIpPolicy } from "./client-ip";
import { PEER_ADDRESS_HEADER, peerHeaderValue, simulatePeerAddressLayer } from "./peer-address";

const PEER = "192.0.2.50";

/** A request as the server layer hands it on: stamped with `peer` (unless null), plus `extra` headers. */
function req(extra: Record<string, string> = {}, peer: string | null = PEER): Request {
  const headers = new Headers(extra);
  if (peer !== null) headers.set(PEER_ADDRESS_HEADER, peerHeaderValue(peer));
  return new Request("http://app.test/api/generate", { headers });
}

const none: ClientIpPolicy = { header: "none", hops: 1 };
const xff = (hops: number): ClientIpPolicy => ({ header: "x-forwarded-for", hops });
const cf: ClientIpPolicy = { header: "cf-connecting-ip", hops: 1 };

beforeEach(() => simulatePeerAddressLayer());

describe("clientIp with none (the default)", () => {
  it("is the peer address, whatever the forwarding headers say", () => {
    const request = req({ "x-forwarded-for": "6.6.6.6", "cf-connecting-ip": "7.7.7.7", "x-real-ip": "8.8.8.8" });
    expect(clientIp(request, none)).toBe(PEER);
    // Pages read the same headers through next/headers.
    expect(clientIpFrom(request.headers, none)).toBe(PEER);
  });

  it("ignores a peer header the layer did not write (a client's forgery)", () => {
    expect(clientIp(req({ [PEER_ADDRESS_HEADER]: "6.6.6.6" }, null), none)).toBeNull();
    // Even a forgery in the layer's format fails without this process's token.
    expect(clientIp(req({ [PEER_ADDRESS_HEADER]: "0123456789abcdef0123456789abcdef 6.6.6.6" }, null), none)).toBeNull();
  });

  it("is null without a stamped peer", () => {
    expect(clientIp(req({}, null), none)).toBeNull();
  });

  it("normalizes the peer (IPv4-mapped IPv6, case)", () => {
    expect(clientIp(req({}, "::ffff:192.0.2.1"), none)).toBe("192.0.2.1");
    expect(clientIp(req({}, "2001:DB8::9"), none)).toBe("2001:db8::9");
  });
});

describe("clientIp with x-forwarded-for", () => {
  it("hops 1: the peer is our proxy, the client is the right-most entry; spoofed left entries change nothing", () => {
    expect(clientIp(req({ "x-forwarded-for": "203.0.113.7" }), xff(1))).toBe("203.0.113.7");
    expect(clientIp(req({ "x-forwarded-for": "6.6.6.6, 203.0.113.7" }), xff(1))).toBe("203.0.113.7");
  });

  it("hops 2: the peer and the right-most entry are ours, the client is the next one", () => {
    expect(clientIp(req({ "x-forwarded-for": "6.6.6.6, 198.51.100.2, 10.0.0.1" }), xff(2))).toBe("198.51.100.2");
    expect(clientIp(req({ "x-forwarded-for": "198.51.100.2, 10.0.0.1" }), xff(2))).toBe("198.51.100.2");
  });

  it("a chain too short for the hops gives the peer, never the left-most entry", () => {
    expect(clientIp(req({ "x-forwarded-for": "10.0.0.1" }), xff(2))).toBe(PEER);
    expect(clientIp(req({}), xff(1))).toBe(PEER);
    expect(clientIp(req({ "x-forwarded-for": " , " }), xff(1))).toBe(PEER);
  });

  it("normalizes mapped IPv6, ports and brackets, and rejects garbage", () => {
    expect(clientIp(req({ "x-forwarded-for": "::ffff:192.0.2.1" }), xff(1))).toBe("192.0.2.1");
    expect(clientIp(req({ "x-forwarded-for": "192.0.2.1:8080" }), xff(1))).toBe("192.0.2.1");
    expect(clientIp(req({ "x-forwarded-for": "[2001:DB8::2]:443" }), xff(1))).toBe("2001:db8::2");
    expect(clientIp(req({ "x-forwarded-for": "not-an-ip" }), xff(1))).toBeNull();
    expect(clientIp(req({ "x-forwarded-for": "1.1.1.1, <script>" }), xff(1))).toBeNull();
  });
});

describe("clientIp with cf-connecting-ip", () => {
  it("uses Cloudflare's header when configured, and only then", () => {
    const request = req({ "cf-connecting-ip": "2001:db8::1", "x-forwarded-for": "1.1.1.1" });
    expect(clientIp(request, cf)).toBe("2001:db8::1");
    expect(clientIp(request, xff(1))).toBe("1.1.1.1");
    expect(clientIp(request, none)).toBe(PEER);
  });

  it("falls back to the peer when the header is absent", () => {
    expect(clientIp(req({ "x-forwarded-for": "1.1.1.1" }), cf)).toBe(PEER);
  });

  it("rejects a garbage value", () => {
    expect(clientIp(req({ "cf-connecting-ip": "nope" }), cf)).toBeNull();
  });
});
