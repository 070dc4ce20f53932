/**
 * Funnel events from the browser: fire-and-forget with sendBeacon (falls back to a keepalive
 * fetch), never awaited, never blocking the UI. `generate_success` is recorded by the server, in
 * the session the generator names with its `X-Session-Id` header (`sessionId()` below).
 */
import type { ClientEvent } from "@/lib/analytics/client-events";

const SESSION_KEY = "litstatus.session";
const LANDING_KEY = "litstatus.landing";

interface Landing {
  referrer?: string;
  utm?: { source?: string; medium?: string; campaign?: string };
}

/**
 * This tab's funnel session id (created on first use): what POST /api/events records, and what
 * the generator sends as `X-Session-Id` so the server's `generate_success` joins the session.
 */
export function sessionId(): string {
  try {
    let id = sessionStorage.getItem(SESSION_KEY);
    if (!id) {
      id = crypto.randomUUID().replaceAll("-", "");
      sessionStorage.setItem(SESSION_KEY, id);
    }
    return id;
  } catch {
    return "no-storage-session";
  }
}

/** UTM parameters and referrer, captured once on the landing page of a session. */
function landing(): Landing {
  try {
    const stored = sessionStorage.getItem(LANDING_KEY);
    if (stored) return JSON.parse(stored) as Landing;
    const params = new URLSearchParams(location.search);
    const pick = (key: string) => params.get(key)?.slice(0, 128) || undefined;
    const value: Landing = {
      referrer: document.referrer ? document.referrer.slice(0, 1024) : undefined,
      utm: { source: pick("utm_source"), medium: pick("utm_medium"), campaign: pick("utm_campaign") },
    };
    sessionStorage.setItem(LANDING_KEY, JSON.stringify(value));
    return value;
  } catch {
    return {};
  }
}

/**
 * `variant` is what the admin funnel's "variant" breakdown groups by: for copy events, the hook
 * of the caption that was copied.
 */
export function track(event: ClientEvent, meta?: Record<string, string | number | boolean>, variant?: string): void {
  if (typeof window === "undefined") return;
  const lang = document.documentElement.lang.startsWith("zh") ? "zh" : "en";
  const body = JSON.stringify({
    event,
    sessionId: sessionId(),
    path: location.pathname,
    lang,
    ...landing(),
    ...(variant ? { variant } : {}),
    meta,
  });
  try {
    if (navigator.sendBeacon?.("/api/events", body)) return;
  } catch {
    // fall through to fetch
  }
  void fetch("/api/events", { method: "POST", body, keepalive: true, headers: { "content-type": "text/plain" } }).catch(() => {});
}
