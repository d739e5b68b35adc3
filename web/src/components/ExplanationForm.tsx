/** Write or change an explanation (text + optional description); shows the server's error, if any. */
import { useState, type FormEvent } from "react";
import { EditorActions } from "./EditorActions";

interface Props {
  initialText?: string;
  initialDescription?: string | null;
  saving: boolean;
  submitText: string;
  onSave: (text: string, description: string | null) => Promise<string | null>;
  onCancel: () => void;
}

export function ExplanationForm({ initialText = "", initialDescription = null, saving, submitText, onSave, onCancel }: Props) {
  const [text, setText] = useState(initialText);
  const [description, setDescription] = useState(initialDescription ?? "");
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!text.trim()) {
      setError("An explanation cannot be empty.");
      return;
    }
    const err = await onSave(text.trim(), description.trim() || null);
    setError(err);
  }

  return (
    <form className="stack" onSubmit={submit} aria-label={submitText} style={{ gap: "0.4rem" }} data-testid="explanation-form">
      <input aria-label="Explanation" placeholder="What does this feature detect?" value={text} onChange={(e) => setText(e.target.value)} maxLength={500} autoFocus />
      <textarea aria-label="Details (optional)" placeholder="Details (optional)" value={description} onChange={(e) => setDescription(e.target.value)} rows={2} maxLength={4000} />
      <EditorActions saving={saving} onCancel={onCancel} error={error} submitText={submitText} />
    </form>
  );
}
