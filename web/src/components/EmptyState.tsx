/** What a page shows when a query succeeded but there is nothing to list. */
import type { ReactNode } from "react";

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state" data-testid="empty-state">
      <strong>{title}</strong>
      {children && <div className="small">{children}</div>}
    </div>
  );
}
