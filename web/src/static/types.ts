/**
 * Files of a static export (`saelab export-static`), under the marker's data folder (default `data/`).
 * Field names and meanings match the GraphQL schema (web/schema.graphql); see web/README.md.
 */

export interface StaticHistogram {
  edges: number[];
  counts: number[];
  zeroFraction?: number | null;
}

/** `run.json`: the Run as the `run(id)` query returns it, metrics and density histogram included. */
export interface StaticRun {
  id: string;
  name: string;
  status: string;
  createdAt: string;
  datasetId?: string | null;
  model: string;
  hook: string;
  architecture: string;
  dIn: number;
  dSae: number;
  config: Record<string, unknown>;
  eval?: Record<string, number | null> | null;
  metrics: Array<Record<string, number | null> & { step: number }>;
  analysed: boolean;
  featureCount: number;
  grades: string[];
  densityHistogram?: StaticHistogram | null;
}

/** One row of `features.json` (an array, every feature of the run). */
export interface StaticFeatureSummary {
  index: number;
  label: string | null;
  grade: string | null;
  labelScore: number | null;
  density: number;
  log10Density: number | null;
  meanActivation: number;
  maxActivation: number;
}

export interface StaticExample {
  tokens: string[];
  activations: number[];
  maxPosition: number;
  maxActivation: number;
  quantile?: number | null;
}

export interface StaticExplanation {
  id: string;
  text: string;
  description: string | null;
  method: string;
  model: string | null;
  author: string;
  editable: boolean;
  sampleSize: number | null;
  sampleUnit: string | null;
  scores: { name: string; value: number | null; ciLow: number | null; ciHigh: number | null; n: number; unit: string; reason: string | null; help: string }[];
}

export interface StaticFeatureRef {
  index: number;
  label: string | null;
  score: number;
}

/** `features/<index>.json`: a summary row plus everything the detail page shows. */
export interface StaticFeature extends StaticFeatureSummary {
  labelSource?: string | null;
  labelDescription?: string | null;
  nActive: number;
  dead: boolean;
  dense: boolean;
  /** Tokens it fires on most; value = share of its firings on that token. */
  topTokens: { token: string; value: number }[];
  /** Explanations with method, model and named scores (exports made before explanations existed have none). */
  explanations?: StaticExplanation[];
  histogram: StaticHistogram | null;
  topExamples: StaticExample[];
  quantileSamples: StaticExample[];
  logitLens: { top: { token: string; value: number }[]; bottom: { token: string; value: number }[] } | null;
  decoderNeighbours: StaticFeatureRef[];
  coactivationNeighbours: StaticFeatureRef[];
}

/** One entry of `search-index.json` (an array). */
export interface StaticSearchEntry {
  index: number;
  label: string | null;
  grade: string | null;
  density: number;
  /** Tokens the feature is about: its max-activating tokens and top logit-lens tokens. */
  tokens: string[];
  /** Text of its top examples. */
  examples: string[];
}
