/** Explorer filters: grade, density range (log10) and label text; label typing is debounced by the page. */
import type { ExplorerState } from "../lib/explorerParams";

interface Props {
  state: ExplorerState;
  grades: readonly string[];
  labelDraft: string;
  onLabelDraft: (text: string) => void;
  onChange: (updates: Record<string, string | null>) => void;
}

const DENSITY_STEPS = [
  { v: "", text: "any" },
  { v: "-6", text: "0.0001%" },
  { v: "-5", text: "0.001%" },
  { v: "-4", text: "0.01%" },
  { v: "-3", text: "0.1%" },
  { v: "-2", text: "1%" },
  { v: "-1", text: "10%" },
  { v: "0", text: "100%" },
];

export function FeatureFilters({ state, grades, labelDraft, onLabelDraft, onChange }: Props) {
  const toggleGrade = (g: string) => {
    const next = state.grades.includes(g) ? state.grades.filter((x) => x !== g) : [...state.grades, g];
    onChange({ grade: next.length ? next.join(",") : null });
  };
  return (
    <div className="row" role="group" aria-label="Filters">
      <input
        type="search"
        placeholder="Label contains…"
        aria-label="Label contains"
        value={labelDraft}
        onChange={(e) => onLabelDraft(e.target.value)}
      />
      {grades.length > 0 && (
        <span className="row small" aria-label="Grade">
          {grades.map((g) => (
            <label key={g} className="row small" style={{ gap: "0.2rem" }}>
              <input type="checkbox" checked={state.grades.includes(g)} onChange={() => toggleGrade(g)} />
              {g}
            </label>
          ))}
        </span>
      )}
      <label className="row small muted">
        Density from
        <select
          aria-label="Minimum density"
          value={state.minLog10 === null ? "" : String(state.minLog10)}
          onChange={(e) => onChange({ dmin: e.target.value || null })}
        >
          {DENSITY_STEPS.map((s) => (
            <option key={s.v} value={s.v}>
              {s.text}
            </option>
          ))}
        </select>
        to
        <select
          aria-label="Maximum density"
          value={state.maxLog10 === null ? "" : String(state.maxLog10)}
          onChange={(e) => onChange({ dmax: e.target.value || null })}
        >
          {DENSITY_STEPS.map((s) => (
            <option key={s.v} value={s.v}>
              {s.text}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
