/** `/` Feature Explorer: run picker, filters, server-side sorted + paginated feature table, legend, export. */
import { useEffect, useState } from "react";
import { Link } from "react-router";
import { ColumnLegend } from "../components/ColumnLegend";
import { EmptyState } from "../components/EmptyState";
import { ErrorState } from "../components/ErrorState";
import { ExportListButtons } from "../components/ExportListButtons";
import { FeatureFilters } from "../components/FeatureFilters";
import { FeatureTable } from "../components/FeatureTable";
import { PageTools } from "../components/PageTools";
import { Pagination } from "../components/Pagination";
import { RunPicker } from "../components/RunPicker";
import { SkeletonLines } from "../components/Skeleton";
import { useCurrentRun } from "../hooks/useCurrentRun";
import { useDebouncedValue } from "../hooks/useDebouncedValue";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { useExplorerState } from "../hooks/useExplorerState";
import { useFeaturesPage } from "../hooks/useFeaturesPage";
import { useRunFacts } from "../hooks/useRunFacts";
import { useServerInfo } from "../hooks/useServerInfo";
import { isNarrowed } from "../lib/explorerParams";
import { densityFloor } from "../lib/format";
import { pageTitle } from "../lib/pageTitle";
import { mapPath, runPath } from "../lib/routes";

export const PAGE_SIZE = 50;

export function ExplorerPage() {
  const current = useCurrentRun();
  const facts = useRunFacts(current.runId);
  const ex = useExplorerState(facts.analysis.denseThreshold);
  const server = useServerInfo();
  const page = useFeaturesPage({ runId: current.runId, page: ex.state.page, pageSize: PAGE_SIZE, sort: ex.sort, order: ex.order, filter: ex.filter });
  useDocumentTitle(pageTitle("Explorer", current.run?.name, ex.state.page > 1 && `page ${ex.state.page}`));

  // Label text: typed into local state, pushed to the URL (and the query) 300 ms after typing stops.
  const [labelDraft, setLabelDraft] = useState(ex.state.label);
  const debouncedLabel = useDebouncedValue(labelDraft, 300);
  const { setFilters } = ex;
  useEffect(() => {
    if (debouncedLabel !== ex.state.label) setFilters({ label: debouncedLabel || null }, true);
  }, [debouncedLabel]); // eslint-disable-line react-hooks/exhaustive-deps -- only typing should push the label

  if (current.error && !current.runs) return <ErrorState what="the list of runs" error={current.error} onRetry={current.retry} />;
  if (current.fetching) return <SkeletonLines lines={12} label="Loading runs" />;
  if (!current.runs?.length || !current.runId)
    return (
      <EmptyState title="No runs yet">
        Train one from the <Link to="/jobs">Jobs</Link> page or with <code>saelab pipeline</code>.
      </EmptyState>
    );

  const narrowed = isNarrowed(ex.state);
  const hiddenDead = ex.state.hide.includes("dead");
  return (
    <div className="stack">
      <div className="page-head">
        <h1>Feature explorer</h1>
        <div className="row">
          <RunPicker runs={current.runs} value={current.runId} onChange={current.setRun} />
          <Link to={runPath(current.runId)} className="small">
            Run summary →
          </Link>
          <Link to={mapPath(current.runId)} className="small">
            Map →
          </Link>
        </div>
      </div>
      <FeatureFilters state={ex.state} labelDraft={labelDraft} onLabelDraft={setLabelDraft} onChange={(u) => ex.setFilters(u)} denseThreshold={facts.analysis.denseThreshold} />
      <PageTools query={page.apiQuery}>
        <ExportListButtons runId={current.runId} sort={ex.sort} order={ex.order} filter={ex.filter} maxPageSize={server.info?.maxPageSize} />
      </PageTools>
      <div className="panel">
        {page.error && !page.features ? (
          <ErrorState what="this page of features" error={page.error} onRetry={page.retry} />
        ) : !page.features ? (
          <SkeletonLines lines={14} label="Loading features" />
        ) : page.features.length === 0 ? (
          <EmptyState title={narrowed ? "No feature matches these filters" : hiddenDead ? "No live feature to show" : "This run has no analysed features yet"}>
            {narrowed ? "Widen the density range, clear the hide or label filter." : hiddenDead ? "Untick “Hide dead” to list the dead ones." : "Submit an analysis job for it on the Jobs page."}
          </EmptyState>
        ) : (
          <div className="stack">
            <FeatureTable runId={current.runId} rows={page.features} sort={ex.state.sort} order={ex.state.order} onSort={ex.setSort} densityFloor={densityFloor(facts.analysis.nTokens)} dimmed={page.fetching} />
            <Pagination page={page.page} pageSize={PAGE_SIZE} total={page.totalCount} onPage={ex.setPage} />
            <ColumnLegend denseThreshold={facts.analysis.denseThreshold} nTokens={facts.analysis.nTokens} />
          </div>
        )}
      </div>
    </div>
  );
}
