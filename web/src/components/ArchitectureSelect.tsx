/** Pick an SAE architecture (the ones the trainer's registry knows). */
import { ARCHITECTURES, type Architecture } from "../lib/jobForm";
import { FormField } from "./FormField";

interface Props {
  label: string;
  value: Architecture;
  onChange: (architecture: Architecture) => void;
}

export function ArchitectureSelect({ label, value, onChange }: Props) {
  return (
    <FormField label={label}>
      {({ id }) => (
        <select id={id} value={value} onChange={(e) => onChange(e.target.value as Architecture)}>
          {ARCHITECTURES.map((a) => (
            <option key={a.value} value={a.value}>
              {a.label}
            </option>
          ))}
        </select>
      )}
    </FormField>
  );
}
