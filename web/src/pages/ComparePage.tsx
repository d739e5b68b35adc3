/** `/compare` Compare runs: evaluated runs of one dataset (a sweep) on L0-EV and L0-CE scatters, with a table. */
import { Link, useNavigate, useSearchParams } from "react-router";
import { liveOnlyPage } from "../components/LiveOnly";
import { EmptyState } from "../components/EmptyState";
import { ErrorState } from "../components/ErrorState";
import { ParetoChart } from "../components/ParetoChart";
import { Section } from "../components/Section";
import { SkeletonBlock } from "../components/Skeleton";
import { useCompareRuns } from "../hooks/useCompareRuns";
import { useDatasets } from "../hooks/useDatasets";
import { parseCompareParams, sparsityKnob, type ComparePointView } from "../lib/compare";
import { fmtNumber, fmtPercent } from "../lib/format";
import { comparePath, runPath } from "../lib/routes";
import { DataTable } from "../components/DataTable";

export const ComparePage = liveOnlyPage("Compare runs", "Comparing runs", LiveComparePage);

function DatasetPicker({ current }: { current: string | null }) {
  const { datasets } = useDatasets();
  const navigate = useNavigate();
  return (
    <label className="row small" style={{ gap: "0.4rem" }}>
      Dataset
      <select value={current ?? ""} onChange={(e) => e.target.value && navigate(comparePath({ datasetId: e.target.value }))}>
        <option value="">Choose a dataset…</option>
        {(datasets ?? []).map((d) => (
          <option key={d.id} value={d.id}>
            {d.name} · {d.model} · {d.hook}
          </option>
        ))}
      </select>
    </label>
  );
}

const COLUMNS = [
  "run",
  "architecture",
  { label: "d_sae", className: "num" },
  "sparsity",
  ...["L0", "EV", "CE recovered", "dead", "dense"].map((label) => ({ label, className: "num" })),
  { label: "front", title: "on the L0-EV / L0-CE Pareto front" },
];

function CompareTable({ points }: { points: readonly ComparePointView[] }) {
  const rows = [...points].sort((a, b) => a.architecture.localeCompare(b.architecture) || (a.l0 ?? Infinity) - (b.l0 ?? Infinity));
  return (
    <DataTable testId="compare-table" columns={COLUMNS} wrap={false}>
      {rows.map((p) => (
        <tr key={p.runId} data-testid="compare-row">
          <td>
            <Link to={runPath(p.runId)}>{p.name}</Link>
          </td>
          <td>{p.architecture}</td>
          <td className="num">{p.dSae ?? "–"}</td>
          <td>{sparsityKnob(p)}</td>
          <td className="num">{p.evaluated ? fmtNumber(p.l0) : "not evaluated"}</td>
          <td className="num">{fmtNumber(p.explainedVariance)}</td>
          <td className="num">{fmtPercent(p.ceLossRecovered)}</td>
          <td className="num">{fmtPercent(p.deadFraction)}</td>
          <td className="num">{fmtPercent(p.denseFraction)}</td>
          <td>{[p.onEvFront ? "EV" : "", p.onCeFront ? "CE" : ""].filter(Boolean).join(" · ") || "–"}</td>
        </tr>
      ))}
    </DataTable>
  );
}

function LiveComparePage() {
  const [params] = useSearchParams();
  const { datasetId, runIds } = parseCompareParams(params);
  const { comparison, fetching, error, retry } = useCompareRuns(datasetId, runIds);
  return (
    <div className="stack" data-testid="compare-page">
      <div className="page-head">
        <h1 style={{ marginBottom: 0 }}>Compare runs</h1>
        <DatasetPicker current={comparison?.datasetId ?? datasetId} />
      </div>
      {!datasetId && !runIds ? (
        <EmptyState title="Pick a dataset">Every run trained on it is plotted (a sweep's runs share one).</EmptyState>
      ) : error && !comparison ? (
        <ErrorState what="the comparison" error={error} onRetry={retry} />
      ) : fetching || !comparison ? (
        <SkeletonBlock height={320} />
      ) : comparison.points.length === 0 ? (
        <EmptyState title="No runs on this dataset yet" />
      ) : (
        <>
          {runIds && datasetId === null && (
            <Link to={comparePath({ datasetId: comparison.datasetId })} className="small">
              Every run on this dataset
            </Link>
          )}
          <Section title="Sparsity against reconstruction">
            <div className="pareto-grid">
              <ParetoChart points={comparison.points} metric="explainedVariance" title="explained variance" />
              <ParetoChart points={comparison.points} metric="ceLossRecovered" title="CE loss recovered" />
            </div>
          </Section>
          <Section title="Runs">
            <CompareTable points={comparison.points} />
          </Section>
        </>
      )}
    </div>
  );
}
