// No "server-only" here: `npm run dev` loads this file into Next's dev server process before
// Next starts (scripts/dev-preload.mjs), outside any React Server environment.
import { randomBytes, randomUUID } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";

/**
 * The TCP peer address, handed from the Node server to the route handlers (PRODUCT §6), and the
 * request id every response carries (PRODUCT §4).
 *
 * Next gives route handlers a fetch Request built from the incoming headers only; the socket
 * is out of reach. So the server layer stamps the peer into a request header before Next sees
 * the request: it patches `emit("request")` on the Node server prototypes, drops every inbound
 * copy of the header, and writes `<process token> <address>`. The token is random per process,
 * so a header that did not come from this layer (a client's forgery, or a request that arrived
 * before the layer was installed) never reads as a peer address.
 *
 * Installed before the server opens its port: `npm start` (scripts/start.mjs) runs the built
 * instrumentation.ts register() first; `npm run dev` (scripts/dev.mjs) preloads this module into
 * Next's dev server process. register() installs it too, for any other way of running Next.
 */
export const PEER_ADDRESS_HEADER = "x-litstatus-peer";

/**
 * Every response carries `X-Request-Id` (PRODUCT §4): pages, files and Next's own 404s as well
 * as API routes. The layer decides it before Next sees the request, writes it on the request
 * (so a route's logs and error envelope use the same id) and on the response. Next keeps a
 * header already set on the response, so the route's own copy cannot differ from it.
 */
export const REQUEST_ID_HEADER = "x-request-id";
const INBOUND_REQUEST_ID = /^[A-Za-z0-9._:-]{8,80}$/;

/** A well-formed inbound id is kept, so a proxy's trace (nginx's $request_id) joins up; anything else is replaced. */
export function requestIdFrom(inbound: string | null | undefined): string {
  return inbound && INBOUND_REQUEST_ID.test(inbound) ? inbound : randomUUID();
}

interface PeerLayerState {
  token: string;
  /** True once the Node server prototypes are patched (false when a test simulates the layer). */
  patched: boolean;
}

const globals = globalThis as unknown as { __litstatusPeerLayer?: PeerLayerState };

/** "::ffff:1.2.3.4" → "1.2.3.4", "[::1]:443" → "::1", "1.2.3.4:80" → "1.2.3.4"; null if not an IP. */
export function normalizeIp(raw: string | undefined | null): string | null {
  if (raw === undefined || raw === null) return null;
  let ip = raw.trim();
  // "[::1]:443" and "1.2.3.4:80" forms some proxies emit
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(ip);
  if (bracketed?.[1]) ip = bracketed[1];
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(ip)) ip = ip.slice(0, ip.lastIndexOf(":"));
  if (ip.toLowerCase().startsWith("::ffff:") && isIP(ip.slice(7)) === 4) ip = ip.slice(7);
  return isIP(ip) === 0 ? null : ip.toLowerCase();
}

function layerState(): PeerLayerState {
  globals.__litstatusPeerLayer ??= { token: randomBytes(16).toString("hex"), patched: false };
  return globals.__litstatusPeerLayer;
}

/** The header value the layer writes for a peer address (the harness uses it to simulate the layer). */
export function peerHeaderValue(address: string): string {
  return `${layerState().token} ${address}`;
}

/** Replaces every inbound copy of a header by `value` (none when null), in both header views. */
function replaceHeader(req: http.IncomingMessage, name: string, value: string | null): void {
  const raw = req.rawHeaders;
  for (let i = raw.length - 2; i >= 0; i -= 2) {
    if (raw[i]?.toLowerCase() === name) raw.splice(i, 2);
  }
  // req.headers is built lazily from rawHeaders; drop any copy it already holds, then set ours.
  delete req.headers[name];
  if (value === null) return;
  raw.push(name, value);
  req.headers[name] = value;
}

/** Stamps the socket's own address, and the request id on the request and its response. */
function stampRequest(req: http.IncomingMessage, res: unknown): void {
  const peer = normalizeIp(req.socket.remoteAddress);
  replaceHeader(req, PEER_ADDRESS_HEADER, peer === null ? null : peerHeaderValue(peer));
  // Node joins repeated copies with ", ", which no well-formed id contains: they get a new one.
  const inbound = req.headers[REQUEST_ID_HEADER];
  const id = requestIdFrom(typeof inbound === "string" ? inbound : undefined);
  replaceHeader(req, REQUEST_ID_HEADER, id);
  if (res instanceof http.ServerResponse && !res.headersSent) res.setHeader("X-Request-Id", id);
}

type Emit = (this: unknown, event: string | symbol, ...args: unknown[]) => boolean;

function patchEmit(proto: { emit: Emit }): void {
  const original = proto.emit;
  proto.emit = function emit(this: unknown, event: string | symbol, ...args: unknown[]): boolean {
    if (event === "request" && args[0] instanceof http.IncomingMessage) stampRequest(args[0], args[1]);
    return original.call(this, event, ...args);
  };
}

/** Patches the Node HTTP(S) servers of this process, once. Safe to call any number of times. */
export function installPeerAddressLayer(): void {
  const state = layerState();
  if (state.patched) return;
  // https.Server does not inherit from http.Server (it is a tls.Server): patch both.
  patchEmit(http.Server.prototype as unknown as { emit: Emit });
  patchEmit(https.Server.prototype as unknown as { emit: Emit });
  state.patched = true;
}

/**
 * For in-process tests that build fetch Requests by hand (no Node server in between): the
 * layer's token exists, so `peerHeaderValue` stamps requests the way the server layer would.
 */
export function simulatePeerAddressLayer(): void {
  layerState();
}

/** Whether a layer (real or simulated) exists in this process: without one no peer can be trusted. */
export function peerAddressLayerInstalled(): boolean {
  return globals.__litstatusPeerLayer !== undefined;
}

/** The peer address the layer stamped on this request, or null (no layer, no stamp, a forgery). */
export function readPeerAddress(headers: Headers): string | null {
  const state = globals.__litstatusPeerLayer;
  const value = headers.get(PEER_ADDRESS_HEADER);
  if (state === undefined || value === null) return null;
  const space = value.indexOf(" ");
  if (space < 0 || value.slice(0, space) !== state.token) return null;
  return normalizeIp(value.slice(space + 1));
}
