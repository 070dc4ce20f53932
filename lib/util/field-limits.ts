/**
 * Bounds of form fields that both the browser forms and the server schemas enforce, defined once
 * so the two cannot drift. Imported by client components: no server imports here.
 */

/** The longest address SMTP can carry (RFC 5321 path limit). */
export const MAX_EMAIL_CHARS = 254;

/** The Pro waitlist's free-text note, in UTF-16 units (what zod's `.max` and `String.length` count). */
export const MAX_WISHLIST_NOTE_CHARS = 1000;
