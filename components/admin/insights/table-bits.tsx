import { Link } from "@/i18n/navigation";

/** `2026-11-29 09:12:03 UTC`, in a <time> element. */
export function When({ iso }: { iso: string }) {
  return <time dateTime={iso}>{`${iso.slice(0, 19).replace("T", " ")} UTC`}</time>;
}

type Href = { pathname: string; query: Record<string, string> };

/** "Showing a–b of n" with previous/next links that keep the page's other parameters. */
export function Pager({
  total,
  offset,
  limit,
  shown,
  linkTo,
  label,
}: {
  total: number;
  offset: number;
  limit: number;
  shown: number;
  linkTo: (offset: number) => Href;
  label: string;
}) {
  const start = total === 0 ? 0 : offset + 1;
  const end = offset + shown;
  return (
    <nav className="pager" aria-label={label}>
      {offset > 0 ? (
        <Link className="btn btn-sm" href={linkTo(Math.max(0, offset - limit))} rel="prev">
          Previous
        </Link>
      ) : (
        <span />
      )}
      <p className="pager-text" role="status">
        {total === 0 ? "No entries" : `Showing ${start}–${end} of ${total}`}
      </p>
      {end < total ? (
        <Link className="btn btn-sm" href={linkTo(offset + limit)} rel="next">
          Next
        </Link>
      ) : (
        <span />
      )}
    </nav>
  );
}

/** Keeps the given, non-empty search parameters as strings (the first of repeated ones). */
export function givenParams(raw: Record<string, string | string[] | undefined>, keys: readonly string[]): Record<string, string> {
  const given: Record<string, string> = {};
  for (const key of keys) {
    const value = Array.isArray(raw[key]) ? raw[key][0] : raw[key];
    if (value !== undefined && value.trim() !== "") given[key] = value.trim();
  }
  return given;
}
