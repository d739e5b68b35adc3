/** `/jobs/:id` Job: live status, progress, stages, training curves over the subscription (a sweep: its runs), error, cancel. */
import { Link, useParams } from "react-router";
import { actionableMessage } from "../api/errors";
import { isStaticMode } from "../api/staticMode";
import { ConfigTable } from "../components/ConfigTable";
import { EmptyState } from "../components/EmptyState";
import { ErrorState } from "../components/ErrorState";
import { JobStages } from "../components/JobStages";
import { ProgressBar } from "../components/ProgressBar";
import { Section } from "../components/Section";
import { SkeletonBlock, SkeletonLines } from "../components/Skeleton";
import { StaticNotice } from "../components/StaticNotice";
import { StatusBadge } from "../components/StatusBadge";
import { SweepRuns } from "../components/SweepRuns";
import { TrainingCurves } from "../components/TrainingCurves";
import { TERMINAL_STATUSES } from "../hooks/jobFields";
import { useCancelJob } from "../hooks/useCancelJob";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { useJob } from "../hooks/useJob";
import { useSteadyProgress } from "../hooks/useSteadyProgress";
import { useTrainingCurves } from "../hooks/useTrainingCurves";
import { fmtDate } from "../lib/format";
import { pageTitle } from "../lib/pageTitle";
import { explorerPath, runPath } from "../lib/routes";
import { configArchitecture, trainConfigOf, trainingWindowText } from "../lib/runView";

export function JobPage() {
  if (isStaticMode()) return <StaticNotice feature="Job pages" />;
  return <LiveJobPage />;
}

function LiveJobPage() {
  const { id = "" } = useParams();
  const { job, trainRunId, notFound, fetching, error, liveError, retry } = useJob(id);
  const curves = useTrainingCurves(trainRunId, { refetchKey: job?.status ?? "" });
  const { cancel, cancelling, error: cancelError } = useCancelJob();
  const progress = useSteadyProgress(`${id}:${job?.attempts ?? 0}`, job?.status === "SUCCEEDED" ? 1 : (job?.progress ?? 0));
  useDocumentTitle(pageTitle(job ? `${job.name || `${job.kind.toLowerCase()} ${job.id}`} (${job.status.toLowerCase()})` : `Job ${id}`));

  const back = (
    <Link to="/jobs" className="small">
      ← Jobs
    </Link>
  );
  if (error && !job) return <>{back}<ErrorState what={`job ${id}`} error={error} onRetry={retry} /></>;
  if (notFound) return <>{back}<EmptyState title={`Job ${id} not found`} /></>;
  if (fetching || !job)
    return (
      <div className="stack">
        {back}
        <SkeletonLines lines={3} label="Loading job" />
        <SkeletonBlock height={200} />
      </div>
    );

  const terminal = TERMINAL_STATUSES.has(job.status);
  const imported = job.kind === "IMPORT" || job.children.some((c) => c.kind === "IMPORT");
  return (
    <div className="stack" data-testid="job-page">
      {back}
      <div className="page-head">
        <div>
          <h1 style={{ marginBottom: 0 }}>{job.name || `${job.kind.toLowerCase()} ${job.id}`}</h1>
          <div className="small muted">
            {job.kind.toLowerCase()} · created {fmtDate(job.createdAt)}
            {job.finishedAt && ` · finished ${fmtDate(job.finishedAt)}`}
          </div>
        </div>
        <div className="row">
          <StatusBadge status={job.status} />
          {!terminal && (
            <button type="button" className="danger" disabled={cancelling} onClick={() => void cancel(job.id)}>
              {cancelling ? "Cancelling…" : "Cancel job"}
            </button>
          )}
        </div>
      </div>
      {cancelError && <div className="error-text small" role="alert">{actionableMessage(cancelError)}</div>}
      {liveError && <div className="small error-text">Live updates lost ({liveError.message}); reload to refresh.</div>}
      {job.status === "FAILED" && (
        <div className="panel error-text" role="alert" data-testid="job-error">
          <strong>Failed:</strong> {job.error || "no message recorded"}
        </div>
      )}
      <Section title="Progress">
        <div className="stack" style={{ gap: "0.5rem" }}>
          <ProgressBar value={progress} label="job progress" testId="job-progress" />
          <div className="small muted" data-testid="job-message">
            {Math.round(progress * 100)}% · {job.stage}
            {job.message ? ` · ${job.message}` : ""}
          </div>
          <JobStages stages={job.children} />
        </div>
      </Section>
      {isSweep(job) ? (
        <Section title="Runs of this sweep">
          <SweepRuns jobId={job.id} jobStatus={job.status} expectAnalysis={sweepAnalyses(job.config)} />
        </Section>
      ) : (
      <Section
        title={imported ? "Imported SAE" : "Training curves"}
        actions={trainRunId && (
          <span className="row small">
            <Link to={runPath(trainRunId)}>Run summary</Link>
            {job.status === "SUCCEEDED" && <Link to={explorerPath(trainRunId)}>Explore features</Link>}
          </span>
        )}
      >
        {isStaticMode() ? null : imported ? (
          <EmptyState title="Imported, not trained here: no training curves">Its features appear once the analysis stage finishes.</EmptyState>
        ) : !trainRunId ? (
          <EmptyState title={terminal ? "This job trained no SAE" : "Curves appear once training starts"} />
        ) : curves.error && !curves.points.length ? (
          <ErrorState what="training metrics" error={curves.error} onRetry={curves.retry} />
        ) : (
          <TrainingCurves points={curves.points} architecture={configArchitecture(job.config)} caption={trainingWindowText(trainConfigOf(job.config))} />
        )}
      </Section>
      )}
      {job.config != null && (
        <Section title="Config">
          <ConfigTable config={job.config} />
        </Section>
      )}
    </div>
  );
}

/** A sweep job, or a pipeline whose stages include one. */
function isSweep(job: { kind: string; children: readonly { kind: string }[] }): boolean {
  return job.kind === "SWEEP" || job.children.some((c) => c.kind === "SWEEP");
}

/** Whether the sweep asked for feature analysis of each run (its config's `analyse`). */
function sweepAnalyses(config: unknown): boolean {
  if (!config || typeof config !== "object") return false;
  const c = config as Record<string, unknown>;
  const sweep = (c.sweep ?? c) as Record<string, unknown> | null;
  return !!sweep && typeof sweep === "object" && sweep.analyse != null;
}
