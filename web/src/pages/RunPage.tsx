/** `/runs/:id` Run summary: eval card, density histogram, config and training curves, each saying which split and tokens it uses. */
import { Link, useParams } from "react-router";
import { AnalysisCard, analysisSummary } from "../components/AnalysisCard";
import { ConfigTable } from "../components/ConfigTable";
import { EmptyState } from "../components/EmptyState";
import { ErrorState } from "../components/ErrorState";
import { EvalCard } from "../components/EvalCard";
import { HistogramChart } from "../components/HistogramChart";
import { PageTools } from "../components/PageTools";
import { Section } from "../components/Section";
import { SkeletonBlock, SkeletonLines } from "../components/Skeleton";
import { StatusBadge } from "../components/StatusBadge";
import { TrainingCurves } from "../components/TrainingCurves";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { useRun } from "../hooks/useRun";
import { analysisFacts } from "../hooks/useRunFacts";
import { useTrainingCurves } from "../hooks/useTrainingCurves";
import { displayPath, fmtDate, fmtLog10Density } from "../lib/format";
import { pageTitle } from "../lib/pageTitle";
import { explorerPath, mapPath, searchPath } from "../lib/routes";
import { trainingWindowText } from "../lib/runView";

export function RunPage() {
  const { id = "" } = useParams();
  const { run, notFound, fetching, error, retry, apiQuery } = useRun(id);
  const curves = useTrainingCurves(run ? run.id : null, { live: run?.status === "RUNNING" || run?.status === "QUEUED" });
  useDocumentTitle(pageTitle(run ? run.name : `Run ${id}`, "run summary"));

  if (error && !run) return <ErrorState what={`run ${id}`} error={error} onRetry={retry} />;
  if (notFound) return <EmptyState title={`Run ${id} not found`}><Link to="/">Back to the explorer</Link></EmptyState>;
  if (fetching || !run)
    return (
      <div className="stack">
        <SkeletonLines lines={2} label="Loading run" />
        <SkeletonBlock height={90} />
        <SkeletonBlock height={220} />
      </div>
    );

  const config = (run.config ?? {}) as Record<string, unknown>;
  const k = typeof config.k === "number" ? config.k : null;
  const analysis = analysisFacts(run.summary);
  const summary = analysisSummary(run.summary);
  return (
    <div className="stack" data-testid="run-page">
      <div className="page-head">
        <div>
          <h1 style={{ marginBottom: 0 }}>{run.name}</h1>
          <div className="small muted" data-testid="run-facts">
            {displayPath(run.model)} · {run.hook} · {run.architecture}
            {k !== null && ` (k = ${k})`} · d_in {run.dIn} · {run.dSae.toLocaleString("en")} features · created {fmtDate(run.createdAt)} · id{" "}
            <span className="mono">{run.id}</span>
          </div>
        </div>
        <div className="row">
          <StatusBadge status={run.status} />
          {run.analysed && (
            <>
              <Link to={explorerPath(run.id)} className="button">
                Explore {run.featureCount.toLocaleString("en")} features →
              </Link>
              <Link to={mapPath(run.id)} className="small">
                Map
              </Link>
              <Link to={searchPath(run.id, "")} className="small">
                Search
              </Link>
            </>
          )}
        </div>
      </div>
      <PageTools query={apiQuery} />
      <Section title="Evaluation (held-out)">{run.eval ? <EvalCard evaluation={run.eval} /> : <EmptyState title="Not evaluated yet" />}</Section>
      {summary && (
        <Section title="Features (analysis)">
          <AnalysisCard summary={summary} />
        </Section>
      )}
      <div className="grid-2">
        <Section title="Feature density (analysis)">
          {run.densityHistogram ? (
            <HistogramChart
              histogram={run.densityHistogram}
              xLabel={`features per density (log scale), over ${analysis.nTokens !== null ? `the ${analysis.nTokens.toLocaleString("en")} analysed tokens` : "the analysed tokens"}`}
              formatEdge={fmtLog10Density}
              zeroText="of features never fired on them (dead)"
            />
          ) : (
            <EmptyState title="No analysis yet" />
          )}
        </Section>
        <Section title="Config">
          <ConfigTable config={run.config} architecture={run.architecture} />
        </Section>
      </div>
      <Section title="Training curves (training split)">
        {curves.error && !curves.points.length ? (
          <ErrorState what="training metrics" error={curves.error} onRetry={curves.retry} />
        ) : curves.fetching ? (
          <SkeletonBlock height={170} label="Loading curves" />
        ) : curves.points.length ? (
          <TrainingCurves points={curves.points} architecture={run.architecture} k={k} caption={trainingWindowText(run.config)} />
        ) : (
          <EmptyState title="No metrics logged" />
        )}
      </Section>
    </div>
  );
}
