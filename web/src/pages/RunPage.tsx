/** `/runs/:id` Run summary: config, eval card, density histogram, training curves, links to the explorer. */
import { Link, useParams } from "react-router";
import { ConfigTable } from "../components/ConfigTable";
import { EmptyState } from "../components/EmptyState";
import { ErrorState } from "../components/ErrorState";
import { EvalCard } from "../components/EvalCard";
import { HistogramChart } from "../components/HistogramChart";
import { Section } from "../components/Section";
import { SkeletonBlock, SkeletonLines } from "../components/Skeleton";
import { StatusBadge } from "../components/StatusBadge";
import { TrainingCurves } from "../components/TrainingCurves";
import { useRun } from "../hooks/useRun";
import { useTrainingCurves } from "../hooks/useTrainingCurves";
import { fmtDate } from "../lib/format";
import { explorerPath, searchPath } from "../lib/routes";

const log10Label = (e: number) => `1e${e.toFixed(1)}`;

export function RunPage() {
  const { id = "" } = useParams();
  const { run, notFound, fetching, error, retry } = useRun(id);
  const curves = useTrainingCurves(run ? run.id : null, { live: run?.status === "RUNNING" || run?.status === "QUEUED" });

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

  return (
    <div className="stack" data-testid="run-page">
      <div className="page-head">
        <div>
          <h1 style={{ marginBottom: 0 }}>{run.name}</h1>
          <div className="small muted">
            {run.model} · {run.hook} · {run.architecture} · d_in {run.dIn} · {run.dSae.toLocaleString("en")} features · {fmtDate(run.createdAt)}
          </div>
        </div>
        <div className="row">
          <StatusBadge status={run.status} />
          {run.analysed && (
            <>
              <Link to={explorerPath(run.id)} className="button">
                Explore {run.featureCount.toLocaleString("en")} features →
              </Link>
              <Link to={searchPath(run.id, "")} className="small">
                Search
              </Link>
            </>
          )}
        </div>
      </div>
      <Section title="Evaluation">{run.eval ? <EvalCard evaluation={run.eval} /> : <EmptyState title="Not evaluated yet" />}</Section>
      <div className="grid-2">
        <Section title="Feature density">
          {run.densityHistogram ? (
            <HistogramChart histogram={run.densityHistogram} xLabel="log10 density (fraction of tokens a feature fires on)" formatEdge={log10Label} zeroText="of features never fire (dead)" />
          ) : (
            <EmptyState title="No analysis yet" />
          )}
        </Section>
        <Section title="Config">
          <ConfigTable config={run.config} />
        </Section>
      </div>
      <Section title="Training curves">
        {curves.error && !curves.points.length ? (
          <ErrorState what="training metrics" error={curves.error} onRetry={curves.retry} />
        ) : curves.fetching ? (
          <SkeletonBlock height={170} label="Loading curves" />
        ) : curves.points.length ? (
          <TrainingCurves points={curves.points} />
        ) : (
          <EmptyState title="No metrics logged" />
        )}
      </Section>
    </div>
  );
}
