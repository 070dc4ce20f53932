import type { ComponentProps, HTMLAttributes, Key, ReactNode } from "react";
import { Pager } from "@/components/admin/console-ui";

/** A column: its header, the cell for a row, the cell's class; `rowHeader` makes the cell a <th scope="row">. */
export type Column<T> = {
  header: ReactNode;
  /** A React key for the header cell, where `header` is not a string. */
  key?: Key;
  cell: (row: T) => ReactNode;
  className?: string;
  rowHeader?: boolean;
};

/** Leaves out the columns that are `false` (such as an admin-only column for a moderator). */
export const columns = <T,>(...cols: (Column<T> | false)[]): Column<T>[] => cols.filter((c): c is Column<T> => c !== false);

export type DataTableProps<T> = {
  columns: Column<T>[];
  rows: readonly T[];
  rowKey: (row: T) => Key;
  /** The text of the one row an empty table shows; none when absent. */
  empty?: ReactNode;
  testId?: string;
  /** Classes beside `table`. */
  className?: string;
  caption?: ReactNode;
  captionClassName?: string;
  /** Classes beside `table-scroll` on the wrapper. */
  wrapperClassName?: string;
  /** Makes the scrolling wrapper a focusable region with this label. */
  region?: string;
  /** Attributes for a row's <tr> (test ids, data attributes). */
  rowProps?: (row: T) => HTMLAttributes<HTMLTableRowElement> & Record<`data-${string}`, string>;
};

/** The console's table: a scrolling wrapper, column headers with `scope="col"`, one row a record. */
export function DataTable<T>({ columns: cols, rows, rowKey, empty, testId, className, caption, captionClassName, wrapperClassName, region, rowProps }: DataTableProps<T>) {
  const regionProps = region ? { tabIndex: 0, role: "region", "aria-label": region } : {};
  return (
    <div className={wrapperClassName ? `${wrapperClassName} table-scroll` : "table-scroll"} {...regionProps}>
      <table className={className ? `table ${className}` : "table"} data-testid={testId}>
        {caption ? <caption className={captionClassName}>{caption}</caption> : null}
        <thead>
          <tr>
            {cols.map((c, i) => (
              <th scope="col" key={c.key ?? (typeof c.header === "string" ? c.header : i)}>
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={rowKey(row)} {...rowProps?.(row)}>
              {cols.map((c, i) =>
                c.rowHeader ? (
                  <th scope="row" key={c.key ?? i} className={c.className}>
                    {c.cell(row)}
                  </th>
                ) : (
                  <td key={c.key ?? i} className={c.className}>
                    {c.cell(row)}
                  </td>
                ),
              )}
            </tr>
          ))}
          {rows.length === 0 && empty !== undefined ? (
            <tr>
              <td colSpan={cols.length} className="muted">
                {empty}
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </div>
  );
}

/** A page of a listing as a table, with the pager under it. */
export function PagedTable<T>({
  page,
  query,
  linkTo,
  pagerLabel,
  ...table
}: Omit<DataTableProps<T>, "rows"> & {
  page: { items: readonly T[]; total: number };
  query: { offset: number; limit: number };
  linkTo: ComponentProps<typeof Pager>["linkTo"];
  pagerLabel: string;
}) {
  return (
    <>
      <DataTable rows={page.items} {...table} />
      <Pager total={page.total} offset={query.offset} limit={query.limit} shown={page.items.length} linkTo={linkTo} label={pagerLabel} />
    </>
  );
}
