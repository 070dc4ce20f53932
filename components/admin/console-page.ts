import { setRequestLocale } from "next-intl/server";
import { requireConsoleViewer, type ConsoleViewer } from "@/lib/admin/console";
import { pageQuery, type PageQuery } from "@/lib/admin/tables";

/** A request's search parameters as Next.js hands them to a page. */
export type SearchParams = Record<string, string | string[] | undefined>;

/** The props of a console page; `P` adds route parameters to the locale. */
export type ConsolePageProps<P extends object = object> = {
  params: Promise<{ locale: string } & P>;
  searchParams: Promise<SearchParams>;
};

/** Sets the request's locale and lets only console viewers (admins, moderators) through. */
export async function openConsolePage<P extends object>(params: Promise<{ locale: string } & P>): Promise<{ viewer: ConsoleViewer; isAdmin: boolean } & P> {
  const { locale, ...rest } = await params;
  setRequestLocale(locale);
  const viewer = await requireConsoleViewer();
  return { ...(rest as unknown as P), viewer, isAdmin: viewer.role === "admin" };
}

/** The first of a repeated search parameter. */
export const firstParam = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/**
 * Keeps the given, non-empty search parameters as strings (the first of repeated ones),
 * trimmed unless `trim` is false.
 */
export function givenParams(raw: SearchParams, keys: readonly string[], { trim = true }: { trim?: boolean } = {}): Record<string, string> {
  const given: Record<string, string> = {};
  for (const key of keys) {
    const value = firstParam(raw[key]);
    if (value === undefined) continue;
    const kept = trim ? value.trim() : value;
    if (kept !== "") given[key] = kept;
  }
  return given;
}

/** Links to other offsets of a listing, keeping its other given parameters (offset 0 leaves `offset` out). */
export function offsetLinks(pathname: string, given: Record<string, string> = {}) {
  return (offset: number) => {
    const query: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...given, offset: offset > 0 ? String(offset) : undefined })) if (v) query[k] = v;
    return { pathname, query };
  };
}

/** A plain listing's page: `limit` of `size`, the given `offset` when valid (else 0), and links to other offsets. */
export async function offsetPage(searchParams: Promise<SearchParams>, size: number, pathname: string): Promise<{ query: PageQuery; linkTo: ReturnType<typeof offsetLinks> }> {
  const parsed = pageQuery.safeParse({ ...givenParams(await searchParams, ["offset"]), limit: String(size) });
  return { query: parsed.success ? parsed.data : { limit: size, offset: 0 }, linkTo: offsetLinks(pathname) };
}
