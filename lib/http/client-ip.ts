import "server-only";
import { logFor } from "@/lib/observability/logger";
import { normalizeIp, peerAddressLayerInstalled, readPeerAddress } from "./peer-address";

export type TrustProxyHeader = "none" | "x-forwarded-for" | "cf-connecting-ip";

export interface ClientIpPolicy {
  header: TrustProxyHeader;
  /** With x-forwarded-for: how many proxies we run in front of the app, the peer being the first. */
  hops: number;
}

const globals = globalThis as unknown as { __litstatusPeerWarned?: boolean };

function peerOf(headers: Headers): string | null {
  if (!peerAddressLayerInstalled() && !globals.__litstatusPeerWarned) {
    globals.__litstatusPeerWarned = true;
    logFor("http").warn(
      "the peer-address layer is not installed: client addresses are unknown and all guests share one quota (start the app with npm start / npm run dev)",
    );
  }
  return readPeerAddress(headers);
}

/**
 * The client address from the one source the operator trusts (PRODUCT §6), or null.
 *
 * - `none`: the TCP peer, as stamped by the server layer (lib/http/peer-address.ts). No
 *   request header can supply or override it.
 * - `x-forwarded-for`: the chain is [...X-Forwarded-For, peer]. The peer and the `hops - 1`
 *   entries before it are our proxies; the client is the next entry to the left. Everything
 *   further left is whatever the client wrote. A chain too short for the hops gives the peer,
 *   never a left-most entry the client may have chosen.
 * - `cf-connecting-ip`: Cloudflare's header; the peer when it is absent.
 */
export function clientIp(req: Request, policy: ClientIpPolicy): string | null {
  return clientIpFrom(req.headers, policy);
}

/** The same from the request headers alone (pages read them through next/headers). */
export function clientIpFrom(headers: Headers, policy: ClientIpPolicy): string | null {
  const peer = peerOf(headers);
  switch (policy.header) {
    case "none":
      return peer;
    case "cf-connecting-ip": {
      const value = headers.get("cf-connecting-ip");
      return value === null ? peer : normalizeIp(value);
    }
    case "x-forwarded-for": {
      const entries = (headers.get("x-forwarded-for") ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
      // Index into [...entries, peer]: the peer sits at entries.length.
      const index = entries.length - policy.hops;
      return index < 0 ? peer : normalizeIp(entries[index]);
    }
  }
}
