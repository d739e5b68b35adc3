/** A table with a header row made from its columns (a label, or a label with a class, a tooltip, or shown to screen
 * readers only) and the rows given as children; in a horizontally scrolling wrapper unless ``wrap`` is false. */
import type { ReactNode } from "react";

export interface Column {
  label: string;
  className?: string;
  /** What the column means (tooltip). */
  title?: string;
  /** Read by screen readers only (a column of buttons). */
  hidden?: boolean;
}

interface Props {
  columns: readonly (string | Column)[];
  /** The table's data-testid. */
  testId?: string;
  wrap?: boolean;
  children: ReactNode;
}

export function DataTable({ columns, testId, wrap = true, children }: Props) {
  const table = (
    <table data-testid={testId}>
      <thead>
        <tr>
          {columns.map((c) => {
            const col = typeof c === "string" ? { label: c } : c;
            return (
              <th key={col.label} className={col.className} title={col.title}>
                {col.hidden ? <span className="sr-only">{col.label}</span> : col.label}
              </th>
            );
          })}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
  return wrap ? <div className="table-wrap">{table}</div> : table;
}
