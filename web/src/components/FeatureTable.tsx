/** The explorer's table: one row per feature, sortable headers, density bar, label linked to the detail page. */
import { Link } from "react-router";
import type { SortParam } from "../lib/explorerParams";
import { fmtNumber } from "../lib/format";
import { featurePath } from "../lib/routes";
import { DensityBar } from "./DensityBar";
import { GradeBadge } from "./GradeBadge";
import { SortHeader } from "./SortHeader";

export interface FeatureRow {
  index: number;
  label?: string | null;
  grade?: string | null;
  labelScore?: number | null;
  density: number;
  maxActivation: number;
}

interface Props {
  runId: string;
  rows: readonly FeatureRow[];
  sort: SortParam;
  order: "asc" | "desc";
  onSort: (column: SortParam) => void;
  dimmed?: boolean;
}

export function FeatureTable({ runId, rows, sort, order, onSort, dimmed }: Props) {
  const header = (col: SortParam, text: string, className?: string) => (
    <SortHeader active={sort === col} order={order} onSort={() => onSort(col)} className={className}>
      {text}
    </SortHeader>
  );
  return (
    <div className="table-wrap" style={{ opacity: dimmed ? 0.6 : 1 }}>
      <table data-testid="feature-table">
        <thead>
          <tr>
            {header("index", "#")}
            <th>Label</th>
            <th>Grade</th>
            {header("density", "Density")}
            {header("maxActivation", "Max act.", "num")}
            {header("labelScore", "Label score", "num hide-narrow")}
          </tr>
        </thead>
        <tbody>
          {rows.map((f) => (
            <tr key={f.index} data-testid="feature-row">
              <td className="num mono">
                <Link to={featurePath(runId, f.index)}>{f.index}</Link>
              </td>
              <td className="label-cell">
                <Link to={featurePath(runId, f.index)} title={f.label ?? undefined}>
                  {f.label || <span className="muted">unlabelled</span>}
                </Link>
              </td>
              <td>
                <GradeBadge grade={f.grade} />
              </td>
              <td>
                <DensityBar density={f.density} />
              </td>
              <td className="num">{fmtNumber(f.maxActivation, 2)}</td>
              <td className="num hide-narrow">{fmtNumber(f.labelScore, 2)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
