/** The explorer's table: one row per feature, sortable explained headers, log-density bar, label linked to the detail page. */
import { Link } from "react-router";
import type { SortParam } from "../lib/explorerParams";
import { fmtNumber } from "../lib/format";
import type { ListRow } from "../lib/featureExport";
import { featurePath } from "../lib/routes";
import { fmtScoreValue, labelScoreCaveat } from "../lib/scores";
import { COLUMN_HELP } from "./ColumnLegend";
import { DensityBar } from "./DensityBar";
import { DensityScale } from "./DensityScale";
import { SortHeader } from "./SortHeader";

/** A table row: an exported feature row less the columns the table leaves to the export. */
export type FeatureRow = Omit<ListRow, "log10Density" | "meanActivation">;

/** Dead / dense flags, in words (read before any score: a dense feature's token-rule score says little). */
function FeatureFlags({ dead, dense }: { dead?: boolean | null; dense?: boolean | null }) {
  if (dead) return <span className="badge bad" data-glyph="✕">dead</span>;
  if (dense) return <span className="badge warn" data-glyph="≋" data-testid="dense-flag">dense</span>;
  return <span className="muted" aria-label="no flag">—</span>;
}

interface Props {
  runId: string;
  rows: readonly FeatureRow[];
  sort: SortParam;
  order: "asc" | "desc";
  onSort: (column: SortParam) => void;
  /** Lowest decade of the density bars (densityFloor of the run's token count). */
  densityFloor: number;
  dimmed?: boolean;
}

export function FeatureTable({ runId, rows, sort, order, onSort, densityFloor, dimmed }: Props) {
  const header = (col: SortParam, text: string, className?: string) => (
    <SortHeader active={sort === col} order={order} onSort={() => onSort(col)} className={className} help={COLUMN_HELP[col as keyof typeof COLUMN_HELP]}>
      {text}
    </SortHeader>
  );
  return (
    <div className="table-wrap" style={{ opacity: dimmed ? 0.6 : 1 }}>
      <table data-testid="feature-table">
        <thead>
          <tr>
            {header("index", "#")}
            <th title={COLUMN_HELP.label}>Label</th>
            <th title={COLUMN_HELP.flags}>Flags</th>
            {header("density", "Density")}
            {header("maxActivation", "Max act.", "num")}
            {header("labelScore", "F1 (held-out)", "num hide-narrow")}
          </tr>
          <tr className="axis-row" aria-hidden="true">
            <td colSpan={3} />
            <td>
              <DensityScale floor={densityFloor} />
            </td>
            <td colSpan={2} className="hide-narrow" />
          </tr>
        </thead>
        <tbody>
          {rows.map((f) => {
            const caveat = f.labelScore != null ? labelScoreCaveat(f.labelSource) : null;
            return (
              <tr key={f.index} data-testid="feature-row">
                <td className="num mono">
                  <Link to={featurePath(runId, f.index)}>{f.index}</Link>
                </td>
                <td className="label-cell">
                  <Link to={featurePath(runId, f.index)} title={f.label ?? undefined}>
                    {f.label || <span className="muted">unlabelled</span>}
                  </Link>
                  {f.labelSource === "human" && <span className="small muted"> (human)</span>}
                </td>
                <td>
                  <FeatureFlags dead={f.dead} dense={f.dense} />
                </td>
                <td>
                  <DensityBar density={f.density} floor={densityFloor} />
                </td>
                <td className="num">{fmtNumber(f.maxActivation, 2)}</td>
                <td className="num hide-narrow" title={caveat ?? undefined} data-testid="row-f1">
                  {f.labelScore == null ? <span className="muted" title="No score: too few held-out firings, or dead">—</span> : fmtScoreValue(f.labelScore)}
                  {caveat && (
                    <>
                      <span className="warn-text" aria-hidden="true"> ⚠</span>
                      <span className="sr-only">{caveat}</span>
                    </>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
