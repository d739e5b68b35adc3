/** `/search?q=` Search: debounced (300 ms) ranked keyword search over labels, tokens and examples; query in the URL. */
import { useEffect, useState } from "react";
import { EmptyState } from "../components/EmptyState";
import { NoRuns } from "../components/NoRuns";
import { PageTools } from "../components/PageTools";
import { ErrorState } from "../components/ErrorState";
import { RunPicker } from "../components/RunPicker";
import { SearchResultItem } from "../components/SearchResultItem";
import { SkeletonLines } from "../components/Skeleton";
import { useCurrentRun } from "../hooks/useCurrentRun";
import { useDebouncedValue } from "../hooks/useDebouncedValue";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { useSearch } from "../hooks/useSearch";
import { useUrlParams } from "../hooks/useUrlParams";
import { pageTitle } from "../lib/pageTitle";

export const SEARCH_DEBOUNCE_MS = 300;

export function SearchPage() {
  const current = useCurrentRun();
  const { get, update } = useUrlParams();
  const urlQuery = get("q") ?? "";
  const [draft, setDraft] = useState(urlQuery);
  const debounced = useDebouncedValue(draft, SEARCH_DEBOUNCE_MS);
  const { hits, fetching, error, retry, apiQuery } = useSearch(current.runId, urlQuery);
  useDocumentTitle(pageTitle(urlQuery.trim() ? `Search “${urlQuery.trim()}”` : "Search", current.run?.name));

  useEffect(() => {
    if (debounced !== urlQuery) update({ q: debounced.trim() ? debounced : null }, { replace: true });
  }, [debounced]); // eslint-disable-line react-hooks/exhaustive-deps -- push settled typing to the URL only

  useEffect(() => {
    if (urlQuery !== debounced) setDraft(urlQuery); // back/forward navigation
  }, [urlQuery]); // eslint-disable-line react-hooks/exhaustive-deps -- follow the URL, not the draft

  if (current.error && !current.runs) return <ErrorState what="the list of runs" error={current.error} onRetry={current.retry} />;
  if (current.fetching) return <SkeletonLines lines={6} />;
  if (!current.runId || !current.runs?.length) return <NoRuns />;

  return (
    <div className="stack">
      <div className="page-head">
        <h1>Search</h1>
        <RunPicker runs={current.runs} value={current.runId} onChange={current.setRun} />
      </div>
      <input type="search" aria-label="Search features" placeholder="Search labels, tokens and example text…" value={draft} onChange={(e) => setDraft(e.target.value)} autoFocus style={{ fontSize: "1.05rem", padding: "0.5rem 0.75rem" }} />
      <PageTools query={urlQuery.trim() ? apiQuery : null} />
      <div className="panel">
        {!urlQuery.trim() ? (
          <EmptyState title="Type to search">Words match labels first, then tokens, then example text.</EmptyState>
        ) : error ? (
          <ErrorState what="search results" error={error} onRetry={retry} />
        ) : !hits ? (
          <SkeletonLines lines={6} label="Searching" />
        ) : hits.length === 0 ? (
          <EmptyState title={`Nothing matches “${urlQuery}”`}>Try fewer or shorter words.</EmptyState>
        ) : (
          <ul className="plain" data-testid="search-results" style={{ opacity: fetching ? 0.6 : 1 }}>
            {hits.map((h) => (
              <SearchResultItem key={h.index} runId={current.runId!} hit={h} query={urlQuery} />
            ))}
          </ul>
        )}
      </div>
    </div>
  );
}
