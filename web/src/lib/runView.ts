/**
 * What the run and job pages show for an architecture: the config without knobs the architecture ignores, server
 * paths shortened, and which training curves say something (no identical charts, no flat L0 chart).
 */
import { flattenConfig } from "./config";
import { displayPath } from "./format";

/** Architecture-specific training knobs and the architectures that read them (shared/config.py `_ARCH_KEYS` and the
 * losses of shared/sae/); every other key applies to all. TrainConfig keeps every key, whatever the architecture. */
const TOPK_FAMILY = ["topk", "batchtopk", "matryoshka_batchtopk"];
const READ_BY: Record<string, readonly string[]> = {
  k: TOPK_FAMILY,
  aux_k: TOPK_FAMILY,
  aux_k_coefficient: TOPK_FAMILY,
  topk_threshold_lr: ["batchtopk", "matryoshka_batchtopk"],
  matryoshka_widths: ["matryoshka_batchtopk"],
  l1_coefficient: ["relu", "gated"],
  l1_warmup_steps: ["relu", "gated"],
  scale_l1_by_decoder_norm: ["relu", "gated"],
  resample_frequency: ["relu", "topk"],
  resample_last_step: ["relu", "topk"],
  resample_pool_tokens: ["relu", "topk"],
  jumprelu_bandwidth: ["jumprelu"],
  jumprelu_init_threshold: ["jumprelu"],
  jumprelu_sparsity_loss: ["jumprelu"],
  jumprelu_tanh_scale: ["jumprelu"],
  l0_coefficient: ["jumprelu"],
  l0_warmup_steps: ["jumprelu"],
  pre_act_loss_coefficient: ["jumprelu"],
};
const KNOWN = new Set(["relu", ...TOPK_FAMILY, "jumprelu", "gated"]);

/** Training knobs ``architecture`` ignores (none for an architecture this client does not know). */
function ignoredBy(architecture: string): Set<string> {
  if (!KNOWN.has(architecture)) return new Set();
  return new Set(Object.entries(READ_BY).filter(([, archs]) => !archs.includes(architecture)).map(([key]) => key));
}

/** The TrainConfig part of a run or job config (a pipeline's `train`, else the config itself). */
export function trainConfigOf(config: unknown): unknown {
  const c = config as Record<string, unknown> | null;
  return c && typeof c === "object" && c.train && typeof c.train === "object" ? c.train : c;
}

/** The architecture a run or job config names (a pipeline's under `train`). */
export function configArchitecture(config: unknown): string | null {
  const c = config as Record<string, unknown> | null;
  if (!c || typeof c !== "object") return null;
  if (typeof c.architecture === "string") return c.architecture;
  const train = c.train as Record<string, unknown> | undefined;
  return train && typeof train.architecture === "string" ? train.architecture : null;
}

/**
 * Config rows to show: flattened ("train.d_sae"), keys the architecture ignores left out, path-like strings as
 * their last folder (the server's directory layout is not the reader's business).
 */
export function configRows(config: unknown, architecture: string | null = configArchitecture(config)): [string, unknown][] {
  const ignored = architecture ? ignoredBy(architecture) : new Set<string>();
  return flattenConfig(config)
    .filter(([key]) => !ignored.has(key.split(".").at(-1)!) || (key.includes(".") && !key.startsWith("train.")))
    .map(([key, v]) => [key, typeof v === "string" ? displayPath(v) : v]);
}

export interface CurvePointLike {
  step: number;
  loss?: number | null;
  mse?: number | null;
  l1?: number | null;
  l0?: number | null;
  explainedVariance?: number | null;
  deadFraction?: number | null;
}

export type CurveMetric = "loss" | "mse" | "l1" | "l0" | "explainedVariance" | "deadFraction";

export interface CurvePlan {
  /** `fraction`: a share in [0, 1], drawn as a percentage from 0. */
  charts: { metric: CurveMetric; title: string; logY?: boolean; fraction?: boolean }[];
  /** Sentences standing in for charts that would say nothing (e.g. "L0 is 32 at every logged step"). */
  notes: string[];
}

/** Points needed before a series counts as flat or as identical to another (one or two early points prove nothing). */
export const MIN_POINTS_TO_MERGE = 3;

function series(points: readonly CurvePointLike[], m: CurveMetric): number[] {
  return points.map((p) => p[m]).filter((v): v is number => typeof v === "number" && Number.isFinite(v));
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

/** The curves worth drawing for these points. */
export function curvePlan(points: readonly CurvePointLike[], architecture: string | null, k?: number | null): CurvePlan {
  const charts: CurvePlan["charts"] = [];
  const notes: string[] = [];
  const loss = series(points, "loss");
  const mse = series(points, "mse");
  const enough = points.length >= MIN_POINTS_TO_MERGE;
  const same = enough && loss.length === points.length && mse.length === points.length && points.every((p) => close(p.loss!, p.mse!));
  if (same) {
    charts.push({ metric: "mse", title: "Loss = MSE (normalised inputs, sum over d_in)", logY: true });
    notes.push("Loss and MSE are equal at every logged step (no sparsity penalty in the loss), so they share one chart.");
  } else {
    charts.push({ metric: "loss", title: "Loss", logY: true }, { metric: "mse", title: "MSE (normalised inputs, sum over d_in)", logY: true });
  }
  if (architecture === "relu" && series(points, "l1").length) charts.push({ metric: "l1", title: "L1 (sparsity penalty, before its coefficient)" });
  const l0 = series(points, "l0");
  const flat = enough && l0.length === points.length && l0.every((v) => close(v, l0[0]));
  if (flat) {
    const why = architecture === "topk" && k ? ` (TopK keeps k = ${k} features per token)` : "";
    notes.push(`L0 is ${Number(l0[0].toPrecision(4))} at every logged step${why}, so it has no chart.`);
  } else {
    charts.push({ metric: "l0", title: "L0 (active features / token)" });
  }
  charts.push({ metric: "explainedVariance", title: "Explained variance (training window)", fraction: true }, { metric: "deadFraction", title: "Dead fraction (training: silent > dead_feature_threshold tokens)", fraction: true });
  return { charts, notes };
}

/** "Training split: each point averages 10 steps × 256 tokens (2,560 tokens) on normalised inputs" from a config. */
export function trainingWindowText(config: unknown): string | null {
  const c = (config ?? {}) as Record<string, unknown>;
  const every = typeof c.log_every === "number" ? c.log_every : null;
  const batch = typeof c.batch_size === "number" ? c.batch_size : null;
  if (every === null || batch === null) return null;
  const norm = c.normalise_activations === "none" ? "raw activations" : "inputs normalised to mean norm √d_in";
  return `Training split: each point averages the last ${every} steps × ${batch.toLocaleString("en")} tokens (${(every * batch).toLocaleString("en")} tokens); ${norm}; MSE summed over d_in.`;
}
