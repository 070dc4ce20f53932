import { isIP } from "node:net";

export type TrustProxyHeader = "none" | "x-forwarded-for" | "cf-connecting-ip";

export interface ClientIpPolicy {
  header: TrustProxyHeader;
  /** With x-forwarded-for: how many proxies we run in front of the app (count from the right). */
  hops: number;
}

function normalizeIp(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  let ip = raw.trim();
  // "[::1]:443" and "1.2.3.4:80" forms some proxies emit
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(ip);
  if (bracketed?.[1]) ip = bracketed[1];
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(ip)) ip = ip.slice(0, ip.lastIndexOf(":"));
  if (ip.toLowerCase().startsWith("::ffff:") && isIP(ip.slice(7)) === 4) ip = ip.slice(7);
  return isIP(ip) === 0 ? null : ip.toLowerCase();
}

/**
 * The client address from the one source the operator trusts. With x-forwarded-for we take
 * the entry `hops` places from the right: each trusted proxy appends the address it saw, so
 * everything left of that is whatever the client chose to send. `none` trusts no header.
 */
export function clientIpFrom(headers: Headers, policy: ClientIpPolicy): string | null {
  switch (policy.header) {
    case "none":
      return null;
    case "cf-connecting-ip":
      return normalizeIp(headers.get("cf-connecting-ip") ?? undefined);
    case "x-forwarded-for": {
      const entries = (headers.get("x-forwarded-for") ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
      return normalizeIp(entries[entries.length - policy.hops]);
    }
  }
}
