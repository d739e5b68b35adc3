/** A labelled text input with its hint or validation message: the field row every job form repeats. */
import { FormField } from "./FormField";

interface Props {
  label: string;
  value: string;
  onChange: (value: string) => void;
  error?: string;
  hint?: string;
  name?: string;
  inputMode?: "numeric" | "decimal";
}

export function TextField({ label, value, onChange, error, hint, name, inputMode }: Props) {
  return (
    <FormField label={label} error={error || undefined} hint={hint}>
      {({ id, describedBy, invalid }) => (
        <input id={id} name={name} aria-describedby={describedBy} aria-invalid={invalid} inputMode={inputMode} value={value} onChange={(e) => onChange(e.target.value)} />
      )}
    </FormField>
  );
}
