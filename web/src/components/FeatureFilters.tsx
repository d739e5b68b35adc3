/** Explorer filters: label text (debounced by the page), hide dead / dense, density range (log10). */
import { hideParam, type ExplorerState, type HideGroup } from "../lib/explorerParams";

interface Props {
  state: ExplorerState;
  labelDraft: string;
  onLabelDraft: (text: string) => void;
  onChange: (updates: Record<string, string | null>) => void;
  /** The run's dense threshold (a fraction of tokens). */
  denseThreshold: number;
}

/** "any", then each power of ten from 0.0001 % to 100 % of tokens (the value: log10 of the fraction). */
const DENSITY_STEPS = [
  { v: "", text: "any" },
  ...[-6, -5, -4, -3, -2, -1, 0].map((log10) => ({ v: String(log10), text: `${Number(`1e${log10 + 2}`)}%` })),
];

export function FeatureFilters({ state, labelDraft, onLabelDraft, onChange, denseThreshold }: Props) {
  const toggleHide = (g: HideGroup) => {
    const next = state.hide.includes(g) ? state.hide.filter((x) => x !== g) : [...state.hide, g];
    onChange({ hide: hideParam(next) });
  };
  const densitySelect = (label: string, param: "dmin" | "dmax", log10: number | null) => (
    <select aria-label={label} value={log10 === null ? "" : String(log10)} onChange={(e) => onChange({ [param]: e.target.value || null })}>
      {DENSITY_STEPS.map((s) => (
        <option key={s.v} value={s.v}>
          {s.text}
        </option>
      ))}
    </select>
  );
  return (
    <div className="row" role="group" aria-label="Filters">
      <input
        type="search"
        placeholder="Label contains…"
        aria-label="Label contains"
        value={labelDraft}
        onChange={(e) => onLabelDraft(e.target.value)}
      />
      <fieldset className="row small inline-fieldset">
        <legend className="muted">Hide</legend>
        <label className="row small" style={{ gap: "0.2rem" }} title="Features that never fired on the analysed tokens">
          <input type="checkbox" checked={state.hide.includes("dead")} onChange={() => toggleHide("dead")} />
          dead
        </label>
        <label className="row small" style={{ gap: "0.2rem" }} title={`Features firing on more than ${Math.round(denseThreshold * 1000) / 10} % of tokens`}>
          <input type="checkbox" checked={state.hide.includes("dense")} onChange={() => toggleHide("dense")} />
          dense (&gt; {Math.round(denseThreshold * 1000) / 10} %)
        </label>
      </fieldset>
      <label className="row small muted">
        Density from
        {densitySelect("Minimum density", "dmin", state.minLog10)}
        to
        {densitySelect("Maximum density", "dmax", state.maxLog10)}
      </label>
    </div>
  );
}
