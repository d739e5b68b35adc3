/** Submit a sweep: shared training keys, then one row per SAE (architecture, width, its sparsity knob). */
import { useState, type FormEvent } from "react";
import { ARCHITECTURES, buildSweepInput, DEFAULT_MEMBER, DEFAULT_SWEEP_FORM, MAX_SWEEP_SAES, usesK, usesL1, validateSweepForm, type SweepErrors, type SweepFormValues, type SweepMember, type SweepSubmission } from "../lib/sweepForm";
import type { DatasetOption } from "./JobForm";
import { FormField } from "./FormField";

interface Props {
  datasets: readonly DatasetOption[];
  submitting: boolean;
  /** Resolves to the server's validation problems, or null when the sweep was accepted. */
  onSubmit: (s: SweepSubmission) => Promise<{ fields: SweepErrors; general: string[] } | null>;
}

type SharedField = "name" | "nSteps" | "batchSize" | "lr" | "seed";

export function SweepForm({ datasets, submitting, onSubmit }: Props) {
  const [values, setValues] = useState<SweepFormValues>(DEFAULT_SWEEP_FORM);
  const [errors, setErrors] = useState<SweepErrors>({});
  const [general, setGeneral] = useState<string[]>([]);

  const set = (key: Exclude<keyof SweepFormValues, "members" | "analyse">, value: string) => {
    setValues((v) => ({ ...v, [key]: value }));
    setErrors((e) => ({ ...e, [key]: "" }));
  };
  const setMember = (i: number, key: keyof SweepMember, value: string) => {
    setValues((v) => ({ ...v, members: v.members.map((m, j) => (j === i ? { ...m, [key]: value } : m)) }));
    setErrors((e) => ({ ...e, [`members.${i}.${key}`]: "" }));
  };
  const addMember = () => setValues((v) => ({ ...v, members: [...v.members, { ...DEFAULT_MEMBER }] }));
  const removeMember = (i: number) => {
    setValues((v) => ({ ...v, members: v.members.filter((_, j) => j !== i) }));
    setErrors({});
  };

  async function submit(e: FormEvent) {
    e.preventDefault();
    const local = validateSweepForm(values);
    setErrors(local);
    setGeneral([]);
    if (Object.keys(local).length) return;
    const server = await onSubmit(buildSweepInput(values));
    if (server) {
      setErrors(server.fields);
      setGeneral(server.general);
    }
  }

  const shared = (field: SharedField, label: string, inputMode?: "numeric" | "decimal") => (
    <FormField label={label} error={errors[field] || undefined}>
      {({ id, describedBy, invalid }) => <input id={id} aria-describedby={describedBy} aria-invalid={invalid} inputMode={inputMode} value={values[field]} onChange={(e) => set(field, e.target.value)} />}
    </FormField>
  );
  const cell = (i: number, field: Exclude<keyof SweepMember, "architecture">, label: string, inputMode: "numeric" | "decimal") => (
    <FormField label={label} error={errors[`members.${i}.${field}`] || undefined}>
      {({ id, describedBy, invalid }) => <input id={id} aria-describedby={describedBy} aria-invalid={invalid} inputMode={inputMode} value={values.members[i][field]} onChange={(e) => setMember(i, field, e.target.value)} />}
    </FormField>
  );

  return (
    <form className="stack" onSubmit={submit} aria-label="Submit a sweep" noValidate>
      {general.length > 0 && (
        <div className="error-text small" role="alert" data-testid="sweep-errors">
          {general.join("\n")}
        </div>
      )}
      <div className="form-grid">
        {shared("name", "Sweep name (optional)")}
        <FormField label="Sweep dataset" error={errors.datasetId || undefined}>
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
        {shared("nSteps", "Sweep steps", "numeric")}
        {shared("batchSize", "Sweep batch (tokens)", "numeric")}
        {shared("lr", "Sweep learning rate", "decimal")}
        {shared("seed", "Sweep seed", "numeric")}
      </div>
      <label className="row small" style={{ gap: "0.3rem" }}>
        <input type="checkbox" checked={values.analyse} onChange={(e) => setValues((v) => ({ ...v, analyse: e.target.checked }))} />
        Analyse every run&apos;s features after its evaluation
      </label>
      {errors.members && <div className="error-text small" role="alert">{errors.members}</div>}
      {values.members.map((m, i) => (
        <fieldset key={i} data-testid="sweep-member">
          <legend>SAE {i + 1}</legend>
          <div className="form-grid">
            <FormField label={`SAE ${i + 1} architecture`}>
              {({ id }) => (
                <select id={id} value={m.architecture} onChange={(e) => setMember(i, "architecture", e.target.value)}>
                  {ARCHITECTURES.map((a) => (
                    <option key={a.value} value={a.value}>
                      {a.label}
                    </option>
                  ))}
                </select>
              )}
            </FormField>
            {cell(i, "dSae", `SAE ${i + 1} d_sae`, "numeric")}
            {usesK(m.architecture) && cell(i, "k", `SAE ${i + 1} k`, "numeric")}
            {usesL1(m.architecture) && cell(i, "l1Coefficient", `SAE ${i + 1} L1 coefficient`, "decimal")}
            {m.architecture === "jumprelu" && cell(i, "l0Coefficient", `SAE ${i + 1} L0 coefficient`, "decimal")}
            <div style={{ alignSelf: "end" }}>
              <button type="button" onClick={() => removeMember(i)} disabled={values.members.length <= 1} aria-label={`Remove SAE ${i + 1}`}>
                Remove
              </button>
            </div>
          </div>
        </fieldset>
      ))}
      <div className="row">
        <button type="button" onClick={addMember} disabled={values.members.length >= MAX_SWEEP_SAES}>
          Add an SAE
        </button>
        <button type="submit" className="primary" disabled={submitting}>
          {submitting ? "Submitting…" : "Submit sweep"}
        </button>
      </div>
    </form>
  );
}
