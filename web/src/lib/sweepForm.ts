/** The sweep form's model: shared training keys + one row per SAE, client checks, the SweepInput, server errors. */
import { ARCHITECTURES, usesK, usesL1, type Architecture } from "./jobForm";

export { ARCHITECTURES, usesK, usesL1 };

export interface SweepMember {
  architecture: Architecture;
  dSae: string;
  k: string;
  l1Coefficient: string;
  l0Coefficient: string;
}

export interface SweepFormValues {
  name: string;
  datasetId: string;
  nSteps: string;
  batchSize: string;
  lr: string;
  seed: string;
  /** Analyse every run's features after its evaluation (AnalyseConfig defaults). */
  analyse: boolean;
  members: SweepMember[];
}

/** Errors by field: `datasetId`, `nSteps`, ... or `members.<i>.<field>` for one SAE's row. */
export type SweepErrors = Record<string, string>;

export const DEFAULT_MEMBER: SweepMember = { architecture: "topk", dSae: "256", k: "16", l1Coefficient: "5", l0Coefficient: "1" };

export const DEFAULT_SWEEP_FORM: SweepFormValues = {
  name: "",
  datasetId: "",
  nSteps: "500",
  batchSize: "1024",
  lr: "0.0004",
  seed: "0",
  analyse: true,
  members: [
    { ...DEFAULT_MEMBER, architecture: "relu" },
    { ...DEFAULT_MEMBER, architecture: "topk" },
  ],
};

export const MAX_SWEEP_SAES = 32;

const positiveInt = (raw: string): number | null => (/^\s*\d+\s*$/.test(raw) && Number.parseInt(raw, 10) >= 1 ? Number.parseInt(raw, 10) : null);

function number(raw: string): number | null {
  if (raw.trim() === "") return null;
  const n = Number(raw);
  return Number.isFinite(n) ? n : null;
}

/** Checks the browser can make before asking the server (which validates again with shared/config.py). */
export function validateSweepForm(v: SweepFormValues): SweepErrors {
  const e: SweepErrors = {};
  if (!v.datasetId.trim()) e.datasetId = "Pick the activation dataset every SAE trains on.";
  if (positiveInt(v.nSteps) === null) e.nSteps = "Steps must be a whole number ≥ 1.";
  if (positiveInt(v.batchSize) === null) e.batchSize = "Batch size must be a whole number ≥ 1.";
  const lr = number(v.lr);
  if (lr === null || lr <= 0) e.lr = "Learning rate must be a number > 0.";
  if (!/^\s*\d+\s*$/.test(v.seed)) e.seed = "Seed must be a whole number ≥ 0.";
  if (v.members.length < 1) e.members = "Add at least one SAE.";
  if (v.members.length > MAX_SWEEP_SAES) e.members = `At most ${MAX_SWEEP_SAES} SAEs in one sweep.`;
  v.members.forEach((m, i) => {
    const at = (f: string) => `members.${i}.${f}`;
    const dSae = positiveInt(m.dSae);
    if (dSae === null) e[at("dSae")] = "d_sae must be a whole number ≥ 1.";
    if (usesK(m.architecture)) {
      const k = positiveInt(m.k);
      if (k === null) e[at("k")] = "k must be a whole number ≥ 1.";
      else if (dSae !== null && k > dSae) e[at("k")] = `k (${k}) cannot exceed d_sae (${dSae}).`;
    }
    if (usesL1(m.architecture)) {
      const l1 = number(m.l1Coefficient);
      if (l1 === null || l1 < 0) e[at("l1Coefficient")] = "L1 coefficient must be a number ≥ 0.";
    }
    if (m.architecture === "jumprelu") {
      const l0 = number(m.l0Coefficient);
      if (l0 === null || l0 < 0) e[at("l0Coefficient")] = "L0 coefficient must be a number ≥ 0.";
    }
  });
  return e;
}

/** One SAE's TrainConfig keys (snake_case, as shared/config.py names them). */
export function memberConfig(m: SweepMember): Record<string, unknown> {
  const cfg: Record<string, unknown> = { architecture: m.architecture, d_sae: Number.parseInt(m.dSae, 10) };
  if (usesK(m.architecture)) cfg.k = Number.parseInt(m.k, 10);
  if (usesL1(m.architecture)) cfg.l1_coefficient = Number(m.l1Coefficient);
  if (m.architecture === "jumprelu") cfg.l0_coefficient = Number(m.l0Coefficient);
  return cfg;
}

export interface SweepSubmission {
  name: string | null;
  datasetId: string;
  common: Record<string, unknown>;
  saes: Record<string, unknown>[];
  analyse?: Record<string, unknown>;
}

export function buildSweepInput(v: SweepFormValues): SweepSubmission {
  return {
    name: v.name.trim() || null,
    datasetId: v.datasetId,
    common: {
      n_steps: Number.parseInt(v.nSteps, 10),
      batch_size: Number.parseInt(v.batchSize, 10),
      lr: Number(v.lr),
      seed: Number.parseInt(v.seed, 10),
    },
    saes: v.members.map(memberConfig),
    ...(v.analyse ? { analyse: {} } : {}),
  };
}

const COMMON_KEYS: Record<string, string> = { n_steps: "nSteps", batch_size: "batchSize", lr: "lr", seed: "seed", datasetId: "datasetId" };
const MEMBER_KEYS: Record<string, keyof SweepMember> = {
  architecture: "architecture",
  d_sae: "dSae",
  k: "k",
  l1_coefficient: "l1Coefficient",
  l0_coefficient: "l0Coefficient",
};

/** The form field a server key path names: `sweep.saes.1.k` -> `members.1.k`, `common.n_steps` -> `nSteps`. */
export function sweepFieldOf(path: string): string | undefined {
  const parts = path.trim().split(".");
  const i = parts.indexOf("saes");
  if (i >= 0 && /^\d+$/.test(parts[i + 1] ?? "")) {
    const key = parts[i + 2];
    if (key && key in COMMON_KEYS) return COMMON_KEYS[key]; // a shared key set on one row: the shared field
    if (key && key in MEMBER_KEYS) return `members.${parts[i + 1]}.${MEMBER_KEYS[key]}`;
    return undefined;
  }
  const last = parts[parts.length - 1];
  return COMMON_KEYS[last];
}

/** Spread a BAD_INPUT message ("<source>: <key path>: <message>" per line) and its `field` over the form. */
export function sweepServerErrors(message: string, field?: string | null): { fields: SweepErrors; general: string[] } {
  const out = { fields: {} as SweepErrors, general: [] as string[] };
  for (const line of message.split("\n").map((l) => l.trim()).filter(Boolean)) {
    const parts = line.split(": ");
    const at = parts.findIndex((p, i) => i < parts.length - 1 && sweepFieldOf(p) !== undefined);
    const target = at >= 0 ? sweepFieldOf(parts[at]) : field ? sweepFieldOf(field) : undefined;
    if (target && !out.fields[target]) out.fields[target] = at >= 0 ? parts.slice(at + 1).join(": ") : line;
    else out.general.push(line);
  }
  return out;
}
