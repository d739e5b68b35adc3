/** Run the LLM explainer on one feature: the cost/time estimate first, then the job with its live progress. */
import { useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { actionableMessage } from "../api/errors";
import { useExplainEstimate, useExplainFeatures, type ExplainOptions } from "../hooks/useExplainFeatures";
import { useJob } from "../hooks/useJob";
import { useToken } from "../hooks/useToken";
import { ProgressBar } from "./ProgressBar";

interface Props {
  runId: string;
  index: number;
  /** Called once the job has succeeded (the page refetches its explanations). */
  onDone: () => void;
}

function JobProgress({ jobId, onDone }: { jobId: string; onDone: () => void }) {
  const { job } = useJob(jobId);
  const stage = job?.children.find((c) => c.kind === "EXPLAIN") ?? job;
  const called = useRef(false);
  useEffect(() => {
    if (job?.status === "SUCCEEDED" && !called.current) {
      called.current = true;
      onDone();
    }
  }, [job?.status, onDone]);
  if (!job || !stage) return <div className="muted small">Queued…</div>;
  return (
    <div className="stack" style={{ gap: "0.2rem" }} data-testid="explain-progress" data-status={job.status}>
      <ProgressBar value={stage.progress} label="explainer progress" />
      <div className="small">
        <span className="badge">{job.status.toLowerCase()}</span> <span data-testid="explain-message">{stage.error ?? stage.message}</span>
      </div>
    </div>
  );
}

function ExplainForm({ runId, index, onDone }: Props) {
  const [token] = useToken();
  const [nTest, setNTest] = useState(10);
  const [nExplain, setNExplain] = useState(10);
  const options: ExplainOptions = useMemo(() => ({ features: [index], n_explain: nExplain, n_test: nTest, per_prompt: 5 }), [index, nExplain, nTest]);
  const { estimate, error: estimateError } = useExplainEstimate(runId, options);
  const { explain, submitting } = useExplainFeatures();
  const [jobId, setJobId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const r = await explain(runId, options);
    setError(r.error ? actionableMessage(r.error) : null);
    if (r.job) setJobId(r.job.id);
  }

  const ready = !!estimate?.configured && !!token && !submitting;
  return (
    <form className="stack" onSubmit={submit} aria-label="Explain with an LLM" data-testid="explain-form" style={{ gap: "0.4rem" }}>
      <div className="row small">
        <label>
          Top examples shown{" "}
          <input type="number" min={1} max={40} value={nExplain} onChange={(e) => setNExplain(Math.max(1, Math.min(40, Number(e.target.value) || 1)))} style={{ width: "4rem" }} />
        </label>
        <label>
          Held-out contexts per score{" "}
          <input type="number" min={1} max={100} value={nTest} onChange={(e) => setNTest(Math.max(1, Math.min(100, Number(e.target.value) || 1)))} style={{ width: "4rem" }} />
        </label>
      </div>
      {estimate && (
        <div className="small" data-testid="explain-estimate">
          {estimate.configured ? (
            <>
              {estimate.method} with <strong data-testid="explain-model">{estimate.model}</strong>: {estimate.llmCalls} LLM calls, about {estimate.promptTokens.toLocaleString("en")} prompt tokens, about{" "}
              {Math.round(estimate.seconds)} s at {estimate.secondsPerCall} s per call.
            </>
          ) : (
            <span className="muted">No LLM explainer is configured on the server (SAELAB_EXPLAINER_BASE_URL, SAELAB_EXPLAINER_MODEL).</span>
          )}
        </div>
      )}
      {estimateError && <div className="error-text small">{actionableMessage(estimateError)}</div>}
      <div className="row">
        <button type="submit" className="primary" disabled={!ready}>
          {submitting ? "Starting…" : "Explain with the LLM"}
        </button>
        {!token && <span className="muted small">Set your API token to run it.</span>}
      </div>
      {error && (
        <div className="error-text small" role="alert">
          {error}
        </div>
      )}
      {jobId && <JobProgress jobId={jobId} onDone={onDone} />}
    </form>
  );
}

/** Closed: one button (no estimate is asked for until a user opens it). */
export function ExplainFeatureForm(props: Props) {
  const [open, setOpen] = useState(false);
  if (!open)
    return (
      <div>
        <button type="button" onClick={() => setOpen(true)}>
          Explain with an LLM…
        </button>
      </div>
    );
  return <ExplainForm {...props} />;
}
