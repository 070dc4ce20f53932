import "server-only";
import { getEnv } from "@/lib/env";

function hostOf(url: string): string | null {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return null;
  }
}

/**
 * Whether a browser sent this request from another site. Browsers always send `Origin` on
 * POST/PUT/PATCH/DELETE; it must name this host (the request's `Host`, or APP_URL's host when a
 * proxy rewrites it). No `Origin` at all (curl, server-to-server with a bearer token) is not a
 * browser's cross-site request, unless `Sec-Fetch-Site` says it is.
 */
export function isCrossSiteRequest(req: Request): boolean {
  const origin = req.headers.get("origin");
  if (origin === null) return req.headers.get("sec-fetch-site") === "cross-site";
  const originHost = hostOf(origin); // "null" (sandboxed frames, privacy redirects) does not parse
  if (originHost === null) return true;
  const allowed = new Set<string>();
  const host = req.headers.get("host");
  allowed.add(host ? host.toLowerCase() : (hostOf(req.url) ?? ""));
  const appUrl = getEnv().APP_URL;
  if (appUrl) allowed.add(hostOf(appUrl) ?? "");
  return !allowed.has(originHost);
}
