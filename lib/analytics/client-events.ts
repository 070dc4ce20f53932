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
