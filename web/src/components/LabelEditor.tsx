/** A feature's label with an edit mode; saving calls relabelFeature and shows the server's error if any. */
import { useState, type FormEvent } from "react";
import { EditorActions } from "./EditorActions";

interface Props {
  label: string | null | undefined;
  source?: string | null;
  editable: boolean;
  saving: boolean;
  onSave: (label: string) => Promise<string | null>;
}

export function LabelEditor({ label, source, editable, saving, onSave }: Props) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(label ?? "");
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const text = draft.trim();
    if (!text) {
      setError("A label cannot be empty.");
      return;
    }
    const err = await onSave(text);
    setError(err);
    if (!err) setEditing(false);
  }

  if (!editing)
    return (
      <div className="row">
        <h1 style={{ margin: 0 }} data-testid="feature-label">
          {label || <span className="muted">unlabelled</span>}
        </h1>
        {source && <span className="badge small">{source}</span>}
        {editable && (
          <button
            type="button"
            onClick={() => {
              setDraft(label ?? "");
              setError(null);
              setEditing(true);
            }}
          >
            Edit label
          </button>
        )}
      </div>
    );

  return (
    <form className="stack" onSubmit={submit} aria-label="Edit label" style={{ gap: "0.4rem" }}>
      <EditorActions saving={saving} onCancel={() => setEditing(false)} error={error}>
        <input aria-label="Label" value={draft} onChange={(e) => setDraft(e.target.value)} maxLength={200} autoFocus style={{ flex: 1, minWidth: "12rem", fontSize: "1.1rem" }} />
      </EditorActions>
    </form>
  );
}
