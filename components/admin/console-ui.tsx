import type { ReactNode } from "react";
import type { ZodError } from "zod";
import { ErrorAlert } from "@/components/admin/form-bits";
import { Link } from "@/i18n/navigation";

type Href = { pathname: string; query: Record<string, string> };

/**
 * An instant in a <time> element: `2026-11-29 09:12:03 UTC`; `minutes`, `2026-11-29 09:12 UTC`;
 * `short`, `11-29 09:12 UTC` with the full form as its title.
 */
export function When({ iso, short = false, minutes = false }: { iso: string; short?: boolean; minutes?: boolean }) {
  const full = `${iso.slice(0, 19).replace("T", " ")} UTC`;
  if (short) {
    return (
      <time dateTime={iso} title={full}>
        {`${iso.slice(5, 16).replace("T", " ")} UTC`}
      </time>
    );
  }
  return <time dateTime={iso}>{minutes ? `${iso.slice(0, 16).replace("T", " ")} UTC` : full}</time>;
}

type PagerLink = { href: Href; text: string };

/** A pager's <nav>: a link back, an optional status, a link on; an absent link keeps its place. */
export function PagerNav({ label, prev, next, status, rel = false }: { label: string; prev?: PagerLink; next?: PagerLink; status?: ReactNode; rel?: boolean }) {
  return (
    <nav className="pager" aria-label={label}>
      {prev ? (
        <Link className="btn btn-sm" href={prev.href} rel={rel ? "prev" : undefined}>
          {prev.text}
        </Link>
      ) : (
        <span />
      )}
      {status}
      {next ? (
        <Link className="btn btn-sm" href={next.href} rel={rel ? "next" : undefined}>
          {next.text}
        </Link>
      ) : (
        <span />
      )}
    </nav>
  );
}

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
    <PagerNav
      label={label}
      rel
      prev={offset > 0 ? { href: linkTo(Math.max(0, offset - limit)), text: "Previous" } : undefined}
      next={end < total ? { href: linkTo(offset + limit), text: "Next" } : undefined}
      status={
        <p className="pager-text" role="status">
          {total === 0 ? "No entries" : `Showing ${start}–${end} of ${total}`}
        </p>
      }
    />
  );
}

/** The alert a filter form shows when some of its search parameters did not validate. */
export function InvalidFilters({ error }: { error: ZodError | undefined }) {
  return error ? <ErrorAlert>Some filters were not valid and were ignored: {error.issues.map((i) => `${i.path.join(".") || "filters"}: ${i.message}`).join("; ")}</ErrorAlert> : null;
}

/** A GET form that filters the page: its fields, then the submit button and any further actions. */
export function FilterForm({
  className,
  action,
  submit,
  primary = false,
  extra,
  children,
}: {
  className: string;
  action?: string;
  submit: string;
  primary?: boolean;
  extra?: ReactNode;
  children: ReactNode;
}) {
  return (
    <form method="get" action={action} className={className}>
      {children}
      <div className="actions">
        <button type="submit" className={primary ? "btn btn-sm btn-primary" : "btn btn-sm"}>
          {submit}
        </button>
        {extra}
      </div>
    </form>
  );
}

/** A labelled free-text filter (no autocomplete; no spell checking unless `checkSpelling`). */
export function TextFilter({
  id,
  name,
  label,
  value,
  placeholder,
  checkSpelling = false,
}: {
  id: string;
  name: string;
  label: string;
  value: string | undefined;
  placeholder?: string;
  checkSpelling?: boolean;
}) {
  return (
    <div>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        name={name}
        type="text"
        autoComplete="off"
        spellCheck={checkSpelling ? undefined : false}
        placeholder={placeholder}
        defaultValue={value ?? ""}
      />
    </div>
  );
}

/** A card section whose heading sits beside a link that downloads its data as CSV. */
export function CsvSection({ id, title, csv, children }: { id: string; title: string; csv: string; children: ReactNode }) {
  return (
    <section className="card stack" aria-labelledby={id}>
      <div className="section-head">
        <h2 id={id}>{title}</h2>
        <a className="btn btn-sm" href={csv} download>
          Download CSV
        </a>
      </div>
      {children}
    </section>
  );
}
