/** What each explorer column means (the headers carry the same text as tooltips). */
import { DENSITY_HELP, F1_HELP } from "../lib/scores";

export const COLUMN_HELP = {
  index: "Feature index in the SAE's dictionary (0 .. d_sae − 1).",
  label: "Short label: the offline token-list labeller's quoted tokens (␣ marks a leading space; “after \"x\"” names the token usually before), or a human label.",
  flags: "dead = never fired on the analysed tokens; dense = fires on more than the run's dense threshold (its scores say little about what it represents).",
  density: DENSITY_HELP,
  maxActivation: "Largest activation seen on the analysed tokens.",
  labelScore: F1_HELP,
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
        <dt>Flags</dt>
        <dd>{COLUMN_HELP.flags}</dd>
        <dt>Density</dt>
        <dd>
          {COLUMN_HELP.density}
          {nTokens !== null && ` Measured on ${nTokens.toLocaleString("en")} tokens.`} Dead = never fired; dense = fired on more
          than {Math.round(denseThreshold * 1000) / 10} % of tokens.
        </dd>
        <dt>Max act.</dt>
        <dd>{COLUMN_HELP.maxActivation}</dd>
        <dt>F1 (held-out)</dt>
        <dd>{COLUMN_HELP.labelScore} The feature page gives its 95 % interval, precision and recall. Marked ⚠ where a human label replaced the scored one.</dd>
      </dl>
    </details>
  );
}
