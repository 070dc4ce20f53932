/**
 * Funnel events a browser may report through POST /api/events. Shared by the page-side tracker
 * (lib/ui/track.ts) and the route's schema, so this module must stay client-safe (no server imports).
 * `generate_success` is absent on purpose: only the server records it.
 */
export const CLIENT_EVENTS = [
  "page_view",
  "generate_click",
  "copy_caption",
  "copy_all",
  "feedback_up",
  "feedback_down",
  "wish_submit",
  "signup",
  "upgrade_click",
] as const;

export type ClientEvent = (typeof CLIENT_EVENTS)[number];

/**
 * A browser tab's funnel session id (lib/ui/track.ts): the `sessionId` of POST /api/events and
 * the optional `X-Session-Id` header of POST /api/generate.
 */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{8,128}$/;
