import { describe, expect, it } from "vitest";
import { clientIpFrom } from "./client-ip";

const h = (init: Record<string, string>) => new Headers(init);

describe("clientIpFrom", () => {
  it("takes the right-most x-forwarded-for entry with one hop, ignoring spoofed left entries", () => {
    const headers = h({ "x-forwarded-for": "6.6.6.6, 203.0.113.7" });
    expect(clientIpFrom(headers, { header: "x-forwarded-for", hops: 1 })).toBe("203.0.113.7");
  });

  it("counts hops from the right", () => {
    const headers = h({ "x-forwarded-for": "6.6.6.6, 198.51.100.2, 10.0.0.1" });
    expect(clientIpFrom(headers, { header: "x-forwarded-for", hops: 2 })).toBe("198.51.100.2");
  });

  it("returns null when there are fewer entries than hops", () => {
    const headers = h({ "x-forwarded-for": "10.0.0.1" });
    expect(clientIpFrom(headers, { header: "x-forwarded-for", hops: 2 })).toBeNull();
  });

  it("uses cf-connecting-ip only when configured", () => {
    const headers = h({ "cf-connecting-ip": "2001:db8::1", "x-forwarded-for": "1.1.1.1" });
    expect(clientIpFrom(headers, { header: "cf-connecting-ip", hops: 1 })).toBe("2001:db8::1");
    expect(clientIpFrom(headers, { header: "x-forwarded-for", hops: 1 })).toBe("1.1.1.1");
  });

  it("trusts nothing with none", () => {
    expect(clientIpFrom(h({ "x-forwarded-for": "1.1.1.1" }), { header: "none", hops: 1 })).toBeNull();
  });

  it("normalizes mapped IPv6, ports and brackets, and rejects garbage", () => {
    const policy = { header: "x-forwarded-for", hops: 1 } as const;
    expect(clientIpFrom(h({ "x-forwarded-for": "::ffff:192.0.2.1" }), policy)).toBe("192.0.2.1");
    expect(clientIpFrom(h({ "x-forwarded-for": "192.0.2.1:8080" }), policy)).toBe("192.0.2.1");
    expect(clientIpFrom(h({ "x-forwarded-for": "[2001:DB8::2]:443" }), policy)).toBe("2001:db8::2");
    expect(clientIpFrom(h({ "x-forwarded-for": "not-an-ip" }), policy)).toBeNull();
    expect(clientIpFrom(h({ "x-forwarded-for": "1.1.1.1, <script>" }), policy)).toBeNull();
  });
});
