/** A cheap "looks like an email" check for forms; the server validates for real. */
export const LOOKS_LIKE_EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
