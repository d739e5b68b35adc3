/** Submit a pipeline (collect → train → analyse) or a training run; shows client and server validation messages. */
import { useCheckedForm } from "../hooks/useCheckedForm";
import { buildSubmission, DEFAULT_JOB_FORM, HOOK_KINDS, usesK, usesL1, validateJobForm, type JobFormField, type JobFormValues, type JobSubmission, type ServerValidation } from "../lib/jobForm";
import { ArchitectureSelect } from "./ArchitectureSelect";
import { DatasetSelect, type DatasetOption } from "./DatasetSelect";
import { FormField } from "./FormField";
import { TextField } from "./TextField";

export type { DatasetOption };

interface Props {
  datasets: readonly DatasetOption[];
  submitting: boolean;
  /** Resolves to the server's validation problems, or null when the job was accepted. */
  onSubmit: (s: JobSubmission) => Promise<ServerValidation | null>;
}

type TextInput = Exclude<JobFormField, "hookKind" | "architecture">;

export function JobForm({ datasets, submitting, onSubmit }: Props) {
  const { values, errors, general, setField: set, submit, reset } = useCheckedForm(DEFAULT_JOB_FORM, validateJobForm, buildSubmission, onSubmit);

  const text = (field: TextInput, label: string, opts: { hint?: string; inputMode?: "numeric" | "decimal" } = {}) => (
    <TextField label={label} name={field} error={errors[field]} hint={opts.hint} inputMode={opts.inputMode} value={values[field]} onChange={(v) => set(field, v)} />
  );

  const pipeline = values.kind === "pipeline";
  return (
    <form className="stack" onSubmit={submit} aria-label="Submit a job" noValidate>
      <div className="row" role="radiogroup" aria-label="Job kind">
        {(["pipeline", "training"] as const).map((k) => (
          <label key={k} className="row small" style={{ gap: "0.3rem" }}>
            <input type="radio" name="kind" checked={values.kind === k} onChange={() => set("kind", k)} />
            {k === "pipeline" ? "Pipeline (collect → train → analyse)" : "Training on a collected dataset"}
          </label>
        ))}
      </div>
      {general.length > 0 && (
        <div className="error-text small" role="alert" data-testid="form-errors">
          {general.join("\n")}
        </div>
      )}
      <div className="form-grid">{text("name", "Name (optional)")}</div>
      {pipeline ? (
        <fieldset>
          <legend>Activations</legend>
          <div className="form-grid">
            {text("model", "Model", { hint: "hub name, local dir or .gguf" })}
            {text("layer", "Layer", { inputMode: "numeric" })}
            <FormField label="Hook">
              {({ id }) => (
                <select id={id} value={values.hookKind} onChange={(e) => set("hookKind", e.target.value as JobFormValues["hookKind"])}>
                  {HOOK_KINDS.map((kind) => (
                    <option key={kind} value={kind}>
                      {kind}
                    </option>
                  ))}
                </select>
              )}
            </FormField>
            {text("corpus", "Corpus", { hint: "HF dataset or local path" })}
            {text("nTokens", "Tokens", { inputMode: "numeric" })}
            {text("contextLength", "Context length", { inputMode: "numeric" })}
          </div>
        </fieldset>
      ) : (
        <DatasetSelect label="Dataset" datasets={datasets} value={values.datasetId} onChange={(id) => set("datasetId", id)} error={errors.datasetId} />
      )}
      <fieldset>
        <legend>SAE training</legend>
        <div className="form-grid">
          <ArchitectureSelect label="Architecture" value={values.architecture} onChange={(a) => set("architecture", a)} />
          {text("dSae", "d_sae", { inputMode: "numeric" })}
          {usesK(values.architecture) && text("k", "k", { inputMode: "numeric", hint: values.architecture === "topk" ? undefined : "on average per token" })}
          {usesL1(values.architecture) && text("l1Coefficient", "L1 coefficient", { inputMode: "decimal" })}
          {values.architecture === "jumprelu" && text("l0Coefficient", "L0 coefficient", { inputMode: "decimal" })}
          {values.architecture === "jumprelu" && text("jumpreluBandwidth", "Bandwidth", { inputMode: "decimal", hint: "STE kernel width ε" })}
          {values.architecture === "matryoshka_batchtopk" && text("matryoshkaWidths", "Prefix widths", { hint: "e.g. 64, 256 (empty: d_sae/16 … d_sae)" })}
          {text("lr", "Learning rate", { inputMode: "decimal" })}
          {text("nSteps", "Steps", { inputMode: "numeric" })}
          {text("batchSize", "Batch (tokens)", { inputMode: "numeric" })}
          {text("seed", "Seed", { inputMode: "numeric", hint: "same config + seed = same run (reused)" })}
        </div>
      </fieldset>
      <div className="row">
        <button type="submit" className="primary" disabled={submitting}>
          {submitting ? "Submitting…" : pipeline ? "Submit pipeline" : "Submit training"}
        </button>
        <button type="button" onClick={reset}>
          Reset
        </button>
      </div>
    </form>
  );
}
