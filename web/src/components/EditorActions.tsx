/** An inline editor's Save and Cancel buttons (after `children` on their row) and its error below them. */
import type { ReactNode } from "react";

interface Props {
  saving: boolean;
  onCancel: () => void;
  error: string | null;
  submitText?: string;
  children?: ReactNode;
}

export function EditorActions({ saving, onCancel, error, submitText = "Save", children }: Props) {
  return (
    <>
      <div className="row">
        {children}
        <button type="submit" className="primary" disabled={saving}>
          {saving ? "Saving…" : submitText}
        </button>
        <button type="button" onClick={onCancel} disabled={saving}>
          Cancel
        </button>
      </div>
      {error && (
        <div className="error-text small" role="alert">
          {error}
        </div>
      )}
    </>
  );
}
