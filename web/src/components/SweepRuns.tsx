/** The runs of a sweep job: each one's live training progress (its curve's newest point), then evaluated/analysed. */
import { Link } from "react-router";
import { useTrainingCurves } from "../hooks/useTrainingCurves";
import { useSweepRuns } from "../hooks/useSweepRuns";
import { fmtNumber } from "../lib/format";
import { comparePath, runPath } from "../lib/routes";
import { ErrorState } from "./ErrorState";
import { SkeletonLines } from "./Skeleton";
import { DataTable } from "./DataTable";

interface SweepRunSummary {
  member: string;
  runId: string;
  name: string;
  architecture: string;
  dSae: number;
  trained: boolean;
  evaluated: boolean;
  analysed: boolean;
}

const stateOf = (r: SweepRunSummary) => (r.analysed ? "analysed" : r.evaluated ? "evaluated" : r.trained ? "trained" : "training");

function SweepRunRow({ run, jobStatus }: { run: SweepRunSummary; jobStatus: string }) {
  const curves = useTrainingCurves(run.runId, { refetchKey: `${jobStatus}|${run.trained}` });
  const last = curves.points.at(-1);
  return (
    <tr data-testid="sweep-run" data-points={curves.points.length} data-state={stateOf(run)}>
      <td>
        <Link to={runPath(run.runId)}>{run.member}</Link>
      </td>
      <td>{run.architecture}</td>
      <td className="num">{run.dSae}</td>
      <td className="num">{last ? last.step : "–"}</td>
      <td className="num">{fmtNumber(last?.explainedVariance)}</td>
      <td className="num">{fmtNumber(last?.l0)}</td>
      <td>{stateOf(run)}</td>
    </tr>
  );
}

const COLUMNS = [
  "SAE",
  "architecture",
  ...["d_sae", "step", "EV (train)", "L0 (train)"].map((label) => ({ label, className: "num" })),
  "state",
];

export function SweepRuns({ jobId, jobStatus, expectAnalysis }: { jobId: string; jobStatus: string; expectAnalysis: boolean }) {
  const { runs, datasetId, error, retry } = useSweepRuns(jobId, {
    settled: (rs) => rs.length > 0 && rs.every((r) => r.evaluated && (!expectAnalysis || r.analysed)),
  });
  if (error && !runs) return <ErrorState what="the sweep's runs" error={error} onRetry={retry} />;
  if (!runs) return <SkeletonLines lines={3} label="Loading the sweep's runs" />;
  return (
    <div className="stack" style={{ gap: "0.5rem" }}>
      <DataTable testId="sweep-runs" columns={COLUMNS} wrap={false}>
        {runs.map((r) => (
          <SweepRunRow key={r.runId} run={r} jobStatus={jobStatus} />
        ))}
      </DataTable>
      {datasetId && (
        <Link to={comparePath({ datasetId, runIds: runs.map((r) => r.runId) })} className="small">
          Compare these runs (L0 vs EV and CE loss recovered)
        </Link>
      )}
    </div>
  );
}
