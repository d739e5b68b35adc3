/** What each explorer column means (the headers carry the same text as tooltips). */
import { DENSITY_HELP, GRADE_HELP, LABEL_SCORE_HELP } from "../lib/scores";

export const COLUMN_HELP = {
  index: "Feature index in the SAE's dictionary (0 .. d_sae − 1).",
  label: "Short label: the offline labeller's token list (tokens it fires on; “(after 'x')” names the token usually before), or a human label.",
  grade: GRADE_HELP,
  density: DENSITY_HELP,
  maxActivation: "Largest activation seen on the analysed tokens.",
  labelScore: LABEL_SCORE_HELP,
} as const;

export function ColumnLegend({ denseThreshold, nTokens }: { denseThreshold: number; nTokens: number | null }) {
  return (
    <details className="legend small" data-testid="column-legend">
      <summary>What the columns mean</summary>
      <dl className="kv">
        <dt>#</dt>
        <dd>{COLUMN_HELP.index}</dd>
        <dt>Label</dt>
        <dd>{COLUMN_HELP.label}</dd>
        <dt>Grade</dt>
        <dd>{COLUMN_HELP.grade}</dd>
        <dt>Density</dt>
        <dd>
          {COLUMN_HELP.density}
          {nTokens !== null && ` Measured on ${nTokens.toLocaleString("en")} tokens.`} Dead = never fired; dense = fired on more
          than {Math.round(denseThreshold * 1000) / 10} % of tokens.
        </dd>
        <dt>Max act.</dt>
        <dd>{COLUMN_HELP.maxActivation}</dd>
        <dt>Label score</dt>
        <dd>{COLUMN_HELP.labelScore} Marked ⚠ where the feature fired too rarely for the score to mean much, or where a human label replaced the scored one.</dd>
      </dl>
    </details>
  );
}
