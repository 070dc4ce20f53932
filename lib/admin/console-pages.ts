/** Plain data (the browser suite imports it too): no server imports here. */
/** The console's pages, in navigation order (path below /admin, title). */
export const CONSOLE_PAGES = [
  { path: "", title: "Overview" },
  { path: "/alerts", title: "Alerts" },
  { path: "/funnel", title: "Funnel" },
  { path: "/security", title: "Security" },
  { path: "/blocklist", title: "Blocklist" },
  { path: "/users", title: "Users" },
  { path: "/generations", title: "Generations" },
  { path: "/database", title: "Database" },
  { path: "/operations", title: "Operations" },
  { path: "/audit", title: "Audit log" },
  { path: "/wishlist", title: "Wishlist" },
  { path: "/feedback", title: "Feedback" },
] as const;
