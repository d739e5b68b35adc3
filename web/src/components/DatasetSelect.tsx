/** Pick a collected dataset to train on (incomplete ones are listed but cannot be chosen). */
import { FormField } from "./FormField";

export interface DatasetOption {
  id: string;
  name: string;
  model: string;
  hook: string;
  complete: boolean;
}

interface Props {
  label: string;
  datasets: readonly DatasetOption[];
  value: string;
  onChange: (id: string) => void;
  error?: string;
}

export function DatasetSelect({ label, datasets, value, onChange, error }: Props) {
  return (
    <FormField label={label} error={error || undefined}>
      {({ id, describedBy, invalid }) => (
        <select id={id} aria-describedby={describedBy} aria-invalid={invalid} value={value} onChange={(e) => onChange(e.target.value)}>
          <option value="">{datasets.length ? "Choose a dataset…" : "No dataset collected yet"}</option>
          {datasets.map((d) => (
            <option key={d.id} value={d.id} disabled={!d.complete}>
              {d.name} · {d.model} · {d.hook}
              {d.complete ? "" : " (incomplete)"}
            </option>
          ))}
        </select>
      )}
    </FormField>
  );
}
