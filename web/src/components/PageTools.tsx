/** The sharing row of a page: copy its link, show its API query, and page-specific actions (export, bookmark). */
import type { ReactNode } from "react";
import type { ApiQuery } from "../lib/apiQuery";
import { ApiQueryPanel } from "./ApiQueryPanel";
import { CopyLinkButton } from "./CopyLinkButton";

export function PageTools({ query, children }: { query?: ApiQuery | null; children?: ReactNode }) {
  return (
    <div className="page-tools row" role="toolbar" aria-label="Share and export">
      {children}
      <CopyLinkButton />
      {query && <ApiQueryPanel query={query} />}
    </div>
  );
}
