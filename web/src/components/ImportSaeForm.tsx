/** "Import an SAE": a server folder, a Hub id or a SAELens release, plus the corpus its activations come from. */
import { useCheckedForm } from "../hooks/useCheckedForm";
import { buildImportInput, DEFAULT_IMPORT_FORM, validateImportForm, type ImportFormField, type ImportSaeInput, type ImportServerValidation } from "../lib/importForm";
import { TextField } from "./TextField";

interface Props {
  submitting: boolean;
  /** Resolves to the server's validation problems, or null when the import was accepted. */
  onSubmit: (input: ImportSaeInput) => Promise<ImportServerValidation | null>;
}

export function ImportSaeForm({ submitting, onSubmit }: Props) {
  const { values, errors, general, setField: set, submit } = useCheckedForm(DEFAULT_IMPORT_FORM, validateImportForm, buildImportInput, onSubmit);

  const text = (field: ImportFormField, label: string, hint?: string, inputMode?: "numeric") => (
    <TextField label={label} name={`import-${field}`} error={errors[field]} hint={hint} inputMode={inputMode} value={values[field]} onChange={(v) => set(field, v)} />
  );

  return (
    <form className="stack" onSubmit={submit} aria-label="Import an SAE" noValidate>
      <p className="small muted" style={{ margin: 0 }}>
        A SAELens folder, a Gemma Scope params.npz folder or a saelab run on the server, a Hugging Face Hub id, or a SAELens release. The server collects activations for the SAE's own model and hook over the corpus, then evaluates and analyses it like a trained run.
      </p>
      {general.length > 0 && (
        <div className="error-text small" role="alert" data-testid="import-errors">
          {general.join("\n")}
        </div>
      )}
      <div className="form-grid">
        {text("source", "SAE source", "absolute server path or org/name[:subfolder]")}
        {text("release", "SAELens release", "instead of a source, e.g. gpt2-small-res-jb")}
        {text("saeId", "SAE id", "within the release")}
        {text("name", "Run name (optional)")}
        {text("corpus", "Corpus for activations", "HF dataset or local path")}
        {text("nTokens", "Tokens to collect", undefined, "numeric")}
      </div>
      <div className="row">
        <button type="submit" className="primary" disabled={submitting}>
          {submitting ? "Importing…" : "Import and analyse"}
        </button>
      </div>
    </form>
  );
}
