/** The job submission form's model: defaults, client-side validation, the GraphQL payload, and server errors. */
import { CORPUS_KEY_TO_FIELD, corpusConfig, corpusErrors, DEFAULT_CORPUS_FIELDS, type CorpusFields } from "./corpusFields";

export type JobFormKind = "pipeline" | "training";

/** SAE architectures (shared/sae/registry.py) with the form's label and the sparsity knobs each one reads. */
export const ARCHITECTURES = [
  { value: "relu", label: "ReLU + L1" },
  { value: "topk", label: "TopK" },
  { value: "batchtopk", label: "BatchTopK" },
  { value: "jumprelu", label: "JumpReLU" },
  { value: "matryoshka_batchtopk", label: "Matryoshka BatchTopK" },
  { value: "gated", label: "Gated" },
] as const;

export type Architecture = (typeof ARCHITECTURES)[number]["value"];

/** Architectures whose sparsity is k (per token for TopK, on average over a batch for the BatchTopK family). */
export const usesK = (a: Architecture): boolean => a === "topk" || a === "batchtopk" || a === "matryoshka_batchtopk";
export const usesL1 = (a: Architecture): boolean => a === "relu" || a === "gated";

/** The hook kinds of a block (docs/theory.md §7), in forward order; the server validates them again. */
export const HOOK_KINDS = ["resid_pre", "attn_out", "mlp_in", "mlp_out", "resid_post"] as const;
export type HookKind = (typeof HOOK_KINDS)[number];

export interface JobFormValues extends CorpusFields {
  kind: JobFormKind;
  name: string;
  model: string;
  layer: string;
  hookKind: HookKind;
  contextLength: string;
  datasetId: string;
  architecture: Architecture;
  dSae: string;
  l1Coefficient: string;
  k: string;
  l0Coefficient: string;
  jumpreluBandwidth: string;
  matryoshkaWidths: string;
  lr: string;
  nSteps: string;
  batchSize: string;
  seed: string;
}

export type JobFormField = Exclude<keyof JobFormValues, "kind">;
export type FieldErrors = Partial<Record<JobFormField, string>>;

export const DEFAULT_JOB_FORM: JobFormValues = {
  kind: "pipeline",
  name: "",
  model: "gpt2",
  layer: "8",
  hookKind: "resid_pre",
  ...DEFAULT_CORPUS_FIELDS,
  contextLength: "128",
  datasetId: "",
  architecture: "relu",
  dSae: "6144",
  l1Coefficient: "5",
  k: "32",
  l0Coefficient: "1",
  jumpreluBandwidth: "0.05",
  matryoshkaWidths: "",
  lr: "0.0004",
  nSteps: "500",
  batchSize: "1024",
  seed: "0",
};

function positiveInt(raw: string): number | null {
  if (!/^\s*\d+\s*$/.test(raw)) return null;
  const n = Number.parseInt(raw, 10);
  return n >= 1 ? n : null;
}

function number(raw: string): number | null {
  if (raw.trim() === "") return null;
  const n = Number(raw);
  return Number.isFinite(n) ? n : null;
}

/** "64, 256, 1024" -> [64, 256, 1024]; null unless whole numbers ≥ 1 in strictly increasing order. */
export function parseWidths(raw: string): number[] | null {
  const parts = raw.split(",").map((p) => p.trim());
  const widths = parts.map(positiveInt);
  if (widths.some((w) => w === null)) return null;
  const ws = widths as number[];
  return ws.every((w, i) => i === 0 || w > ws[i - 1]) ? ws : null;
}

/** Checks the browser can make before asking the server (which validates again with the strict config models). */
export function validateJobForm(v: JobFormValues): FieldErrors {
  const e: FieldErrors = {};
  if (v.kind === "pipeline") {
    if (!v.model.trim()) e.model = "Model is required (hub name, local directory or .gguf path).";
    const layer = Number.parseInt(v.layer, 10);
    if (!/^\s*\d+\s*$/.test(v.layer) || layer < 0) e.layer = "Layer must be a whole number ≥ 0.";
    Object.assign(e, corpusErrors(v));
    const ctx = positiveInt(v.contextLength);
    if (ctx === null || ctx < 2) e.contextLength = "Context length must be a whole number ≥ 2.";
  } else if (!v.datasetId.trim()) {
    e.datasetId = "Pick the activation dataset to train on.";
  }
  const dSae = positiveInt(v.dSae);
  if (dSae === null) e.dSae = "d_sae must be a whole number ≥ 1.";
  if (usesK(v.architecture)) {
    const k = positiveInt(v.k);
    if (k === null) e.k = "k must be a whole number ≥ 1.";
    else if (dSae !== null && k > dSae) e.k = `k (${k}) cannot exceed d_sae (${dSae}).`;
  }
  if (usesL1(v.architecture)) {
    const l1 = number(v.l1Coefficient);
    if (l1 === null || l1 < 0) e.l1Coefficient = "L1 coefficient must be a number ≥ 0.";
  }
  if (v.architecture === "jumprelu") {
    const l0 = number(v.l0Coefficient);
    if (l0 === null || l0 < 0) e.l0Coefficient = "L0 coefficient must be a number ≥ 0.";
    const bw = number(v.jumpreluBandwidth);
    if (bw === null || bw <= 0) e.jumpreluBandwidth = "Bandwidth must be a number > 0.";
  }
  if (v.architecture === "matryoshka_batchtopk" && v.matryoshkaWidths.trim()) {
    const widths = parseWidths(v.matryoshkaWidths);
    if (widths === null) e.matryoshkaWidths = "Prefix widths: whole numbers ≥ 1, comma-separated, increasing.";
    else if (dSae !== null && widths[widths.length - 1] > dSae) e.matryoshkaWidths = `The last width cannot exceed d_sae (${dSae}).`;
  }
  const lr = number(v.lr);
  if (lr === null || lr <= 0) e.lr = "Learning rate must be a number > 0.";
  if (positiveInt(v.nSteps) === null) e.nSteps = "Steps must be a whole number ≥ 1.";
  if (positiveInt(v.batchSize) === null) e.batchSize = "Batch size must be a whole number ≥ 1.";
  if (!/^\s*\d+\s*$/.test(v.seed)) e.seed = "Seed must be a whole number ≥ 0.";
  return e;
}

/** TrainConfig keys (snake_case, as shared/config.py names them) for the form's training part. */
export function trainConfig(v: JobFormValues): Record<string, unknown> {
  const cfg: Record<string, unknown> = {
    architecture: v.architecture,
    d_sae: Number.parseInt(v.dSae, 10),
    lr: Number(v.lr),
    n_steps: Number.parseInt(v.nSteps, 10),
    batch_size: Number.parseInt(v.batchSize, 10),
    seed: Number.parseInt(v.seed, 10),
  };
  if (usesK(v.architecture)) cfg.k = Number.parseInt(v.k, 10);
  if (usesL1(v.architecture)) cfg.l1_coefficient = Number(v.l1Coefficient);
  if (v.architecture === "jumprelu") {
    cfg.l0_coefficient = Number(v.l0Coefficient);
    cfg.jumprelu_bandwidth = Number(v.jumpreluBandwidth);
  }
  if (v.architecture === "matryoshka_batchtopk" && v.matryoshkaWidths.trim()) cfg.matryoshka_widths = parseWidths(v.matryoshkaWidths);
  return cfg;
}

export function collectConfig(v: JobFormValues): Record<string, unknown> {
  return {
    model: v.model.trim(),
    hook: `blocks.${Number.parseInt(v.layer, 10)}.hook_${v.hookKind}`,
    ...corpusConfig(v),
    context_length: Number.parseInt(v.contextLength, 10),
  };
}

export type JobSubmission =
  | { kind: "pipeline"; input: { name: string | null; collect: Record<string, unknown>; train: Record<string, unknown> } }
  | { kind: "training"; datasetId: string; name: string | null; config: Record<string, unknown> };

export function buildSubmission(v: JobFormValues): JobSubmission {
  const name = v.name.trim() || null;
  if (v.kind === "pipeline") return { kind: "pipeline", input: { name, collect: collectConfig(v), train: trainConfig(v) } };
  return { kind: "training", datasetId: v.datasetId, name, config: trainConfig(v) };
}

/** Config key (last dotted segment of the server's field path) -> the form field that edits it. */
const KEY_TO_FIELD: Record<string, JobFormField> = {
  name: "name",
  model: "model",
  gguf_file: "model",
  hook: "layer",
  ...CORPUS_KEY_TO_FIELD,
  context_length: "contextLength",
  dataset_id: "datasetId",
  datasetId: "datasetId",
  activations: "datasetId",
  architecture: "architecture",
  d_sae: "dSae",
  k: "k",
  l1_coefficient: "l1Coefficient",
  l0_coefficient: "l0Coefficient",
  jumprelu_bandwidth: "jumpreluBandwidth",
  matryoshka_widths: "matryoshkaWidths",
  lr: "lr",
  n_steps: "nSteps",
  batch_size: "batchSize",
  seed: "seed",
};

function fieldOf(path: string): JobFormField | undefined {
  const last = path.trim().split(".").pop() ?? "";
  return KEY_TO_FIELD[last];
}

export interface ServerValidation {
  fields: FieldErrors;
  /** Lines that name no form field (shown above the form). */
  general: string[];
}

/**
 * Spread a server BAD_INPUT error over the form. The gateway's messages follow shared/config.py:
 * one line per problem, "<source>: <key>: <message>"; `extensions.field` may name the key too.
 */
export function serverFieldErrors(message: string, field?: string | null): ServerValidation {
  const out: ServerValidation = { fields: {}, general: [] };
  const lines = message.split("\n").map((l) => l.trim()).filter(Boolean);
  for (const line of lines) {
    const parts = line.split(": ");
    let matched = false;
    for (let i = 0; i < parts.length - 1; i++) {
      const f = fieldOf(parts[i]);
      if (f) {
        if (!out.fields[f]) out.fields[f] = parts.slice(i + 1).join(": ");
        matched = true;
        break;
      }
    }
    if (!matched) {
      const f = field ? fieldOf(field) : undefined;
      if (f && !out.fields[f]) out.fields[f] = line;
      else out.general.push(line);
    }
  }
  return out;
}
