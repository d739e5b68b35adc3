/** "API query": the GraphQL query and variables that produced the page, with a curl line, each copyable. */
import { useId, useState } from "react";
import { GRAPHQL_PATH } from "../api/client";
import { isStaticMode } from "../api/staticMode";
import { useCopy } from "../hooks/useCopy";
import { curlCommand, queryText, type ApiQuery } from "../lib/apiQuery";
import { CopyStatus } from "./CopyStatus";

export function ApiQueryPanel({ query }: { query: ApiQuery }) {
  const [open, setOpen] = useState(false);
  const { copy, status } = useCopy();
  const id = useId();
  const endpoint = `${window.location.origin}${GRAPHQL_PATH}`;
  const text = queryText(query);
  const vars = JSON.stringify(query.variables, null, 2);
  const curl = curlCommand(query, endpoint);
  return (
    <>
      <button type="button" className="small" aria-expanded={open} aria-controls={id} onClick={() => setOpen((o) => !o)} data-testid="api-query-toggle">
        API query
      </button>
      {open && (
        <div id={id} className="panel api-query stack" data-testid="api-query" role="region" aria-label="API query for this page">
          <div className="small muted">
            {isStaticMode()
              ? "This static export answers from files; against a live saelab gateway the page sends this query:"
              : `The page's data comes from this GraphQL query (POST ${endpoint}; queries need no token).`}
          </div>
          <pre className="code-block" data-testid="api-query-text" tabIndex={0} role="region" aria-label="GraphQL query">{text}</pre>
          <div className="small muted">Variables</div>
          <pre className="code-block" data-testid="api-query-variables" tabIndex={0} role="region" aria-label="Variables">{vars}</pre>
          <div className="small muted">curl</div>
          <pre className="code-block" data-testid="api-query-curl" tabIndex={0} role="region" aria-label="curl command">{curl}</pre>
          <div className="row">
            <button type="button" className="small" onClick={() => void copy(text, "Query copied")}>
              Copy query
            </button>
            <button type="button" className="small" onClick={() => void copy(vars, "Variables copied")}>
              Copy variables
            </button>
            <button type="button" className="small" onClick={() => void copy(curl, "curl command copied")}>
              Copy curl
            </button>
            <CopyStatus status={status} />
          </div>
        </div>
      )}
    </>
  );
}
