/** A labelled form control with its hint or validation message (linked by id for screen readers). */
import { useId, type ReactNode } from "react";

interface Props {
  label: string;
  error?: string;
  hint?: string;
  children: (ids: { id: string; describedBy: string | undefined; invalid: boolean }) => ReactNode;
}

export function FormField({ label, error, hint, children }: Props) {
  const id = useId();
  const noteId = `${id}-note`;
  return (
    <div className={`field${error ? " field-invalid" : ""}`} style={{ display: "flex", flexDirection: "column", gap: "0.2rem" }}>
      <label htmlFor={id} className="small muted">
        {label}
      </label>
      {children({ id, describedBy: error || hint ? noteId : undefined, invalid: !!error })}
      {error ? (
        <span id={noteId} className="error-text small" role="alert">
          {error}
        </span>
      ) : (
        hint && (
          <span id={noteId} className="small muted">
            {hint}
          </span>
        )
      )}
    </div>
  );
}
