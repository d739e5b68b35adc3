/** Submit a sweep: shared training keys, then one row per SAE (architecture, width, its sparsity knob). */
import { useCheckedForm } from "../hooks/useCheckedForm";
import { buildSweepInput, DEFAULT_MEMBER, DEFAULT_SWEEP_FORM, MAX_SWEEP_SAES, usesK, usesL1, validateSweepForm, type SweepErrors, type SweepMember, type SweepSubmission } from "../lib/sweepForm";
import { ArchitectureSelect } from "./ArchitectureSelect";
import { DatasetSelect, type DatasetOption } from "./DatasetSelect";
import { TextField } from "./TextField";

interface Props {
  datasets: readonly DatasetOption[];
  submitting: boolean;
  /** Resolves to the server's validation problems, or null when the sweep was accepted. */
  onSubmit: (s: SweepSubmission) => Promise<{ fields: SweepErrors; general: string[] } | null>;
}

type SharedField = "name" | "nSteps" | "batchSize" | "lr" | "seed";

export function SweepForm({ datasets, submitting, onSubmit }: Props) {
  const { values, setValues, errors, setErrors, general, setField: set, submit } = useCheckedForm(DEFAULT_SWEEP_FORM, validateSweepForm, buildSweepInput, onSubmit);
  const setMember = (i: number, key: keyof SweepMember, value: string) => {
    setValues((v) => ({ ...v, members: v.members.map((m, j) => (j === i ? { ...m, [key]: value } : m)) }));
    setErrors((e) => ({ ...e, [`members.${i}.${key}`]: "" }));
  };
  const addMember = () => setValues((v) => ({ ...v, members: [...v.members, { ...DEFAULT_MEMBER }] }));
  const removeMember = (i: number) => {
    setValues((v) => ({ ...v, members: v.members.filter((_, j) => j !== i) }));
    setErrors({});
  };

  const shared = (field: SharedField, label: string, inputMode?: "numeric" | "decimal") => (
    <TextField label={label} error={errors[field]} inputMode={inputMode} value={values[field]} onChange={(v) => set(field, v)} />
  );
  const cell = (i: number, field: Exclude<keyof SweepMember, "architecture">, label: string, inputMode: "numeric" | "decimal") => (
    <TextField label={label} error={errors[`members.${i}.${field}`]} inputMode={inputMode} value={values.members[i][field]} onChange={(v) => setMember(i, field, v)} />
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
        <DatasetSelect label="Sweep dataset" datasets={datasets} value={values.datasetId} onChange={(id) => set("datasetId", id)} error={errors.datasetId} />
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
            <ArchitectureSelect label={`SAE ${i + 1} architecture`} value={m.architecture} onChange={(a) => setMember(i, "architecture", a)} />
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
