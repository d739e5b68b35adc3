/** Chooses the run the page works on. */

interface RunOption {
  id: string;
  name: string;
  architecture: string;
  dSae: number;
  analysed: boolean;
}

interface Props {
  runs: readonly RunOption[];
  value: string | null;
  onChange: (id: string) => void;
}

export function RunPicker({ runs, value, onChange }: Props) {
  return (
    <label className="row small muted">
      Run
      <select value={value ?? ""} onChange={(e) => onChange(e.target.value)} aria-label="Run">
        {runs.map((r) => (
          <option key={r.id} value={r.id}>
            {r.name} · {r.architecture} · {r.dSae.toLocaleString("en")} features{r.analysed ? "" : " (not analysed)"}
          </option>
        ))}
      </select>
    </label>
  );
}
