/** Submit a pipeline (collect → train → analyse) or a training run; shows client and server validation messages. */
import { useState, type FormEvent } from "react";
import { ARCHITECTURES, buildSubmission, DEFAULT_JOB_FORM, HOOK_KINDS, usesK, usesL1, validateJobForm, type FieldErrors, type JobFormField, type JobFormValues, type JobSubmission, type ServerValidation } from "../lib/jobForm";
import { FormField } from "./FormField";

export interface DatasetOption {
  id: string;
  name: string;
  model: string;
  hook: string;
  complete: boolean;
}

interface Props {
  datasets: readonly DatasetOption[];
  submitting: boolean;
  /** Resolves to the server's validation problems, or null when the job was accepted. */
  onSubmit: (s: JobSubmission) => Promise<ServerValidation | null>;
}

type TextField = Exclude<JobFormField, "hookKind" | "architecture">;

export function JobForm({ datasets, submitting, onSubmit }: Props) {
  const [values, setValues] = useState<JobFormValues>(DEFAULT_JOB_FORM);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [general, setGeneral] = useState<string[]>([]);

  const set = <K extends keyof JobFormValues>(key: K, value: JobFormValues[K]) => {
    setValues((v) => ({ ...v, [key]: value }));
    setErrors((e) => ({ ...e, [key]: undefined }));
  };

  async function submit(e: FormEvent) {
    e.preventDefault();
    const local = validateJobForm(values);
    setErrors(local);
    setGeneral([]);
    if (Object.keys(local).length) return;
    const server = await onSubmit(buildSubmission(values));
    if (server) {
      setErrors(server.fields);
      setGeneral(server.general);
    }
  }

  const text = (field: TextField, label: string, opts: { hint?: string; inputMode?: "numeric" | "decimal" } = {}) => (
    <FormField label={label} error={errors[field]} hint={opts.hint}>
      {({ id, describedBy, invalid }) => (
        <input id={id} name={field} aria-describedby={describedBy} aria-invalid={invalid} inputMode={opts.inputMode} value={values[field]} onChange={(e) => set(field, e.target.value)} />
      )}
    </FormField>
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
        <FormField label="Dataset" error={errors.datasetId}>
          {({ id, describedBy, invalid }) => (
            <select id={id} aria-describedby={describedBy} aria-invalid={invalid} value={values.datasetId} onChange={(e) => set("datasetId", e.target.value)}>
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
      )}
      <fieldset>
        <legend>SAE training</legend>
        <div className="form-grid">
          <FormField label="Architecture">
            {({ id }) => (
              <select id={id} value={values.architecture} onChange={(e) => set("architecture", e.target.value as JobFormValues["architecture"])}>
                {ARCHITECTURES.map((a) => (
                  <option key={a.value} value={a.value}>
                    {a.label}
                  </option>
                ))}
              </select>
            )}
          </FormField>
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
        <button type="button" onClick={() => { setValues(DEFAULT_JOB_FORM); setErrors({}); setGeneral([]); }}>
          Reset
        </button>
      </div>
    </form>
  );
}
