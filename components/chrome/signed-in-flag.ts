/**
 * The query flag a sign-in link lands with (the sign-in page adds it to the link's `next` path):
 * the page then confirms who is signed in, and drops the flag from the address.
 */
export const SIGNED_IN_FLAG = "signed_in";

/** `next` with the flag added (a same-site path, as `safeNextPath` returns it). */
export function withSignedInFlag(next: string): string {
  const base = "http://same-site.invalid";
  const url = new URL(next, base);
  url.searchParams.set(SIGNED_IN_FLAG, "1");
  return `${url.pathname}${url.search}${url.hash}`;
}

/** The current address without the flag (what the browser shows once it was read). */
export function withoutSignedInFlag(href: string): string {
  const url = new URL(href);
  url.searchParams.delete(SIGNED_IN_FLAG);
  return `${url.pathname}${url.search}${url.hash}`;
}
