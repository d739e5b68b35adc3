/** A sortable column header: shows the direction when active; clicking asks for a new sort. */
import type { ReactNode } from "react";

interface Props {
  children: ReactNode;
  active: boolean;
  order: "asc" | "desc";
  onSort: () => void;
  className?: string;
  /** What the column means (tooltip). */
  help?: string;
}

export function SortHeader({ children, active, order, onSort, className, help }: Props) {
  return (
    <th className={className} aria-sort={active ? (order === "asc" ? "ascending" : "descending") : "none"} title={help}>
      <button type="button" className="sort" aria-pressed={active} onClick={onSort}>
        {children} {active ? (order === "asc" ? "▲" : "▼") : ""}
      </button>
    </th>
  );
}
