/**
 * The prompt analyser's client-side views of one analysePrompt answer: features ranked over the whole prompt,
 * and per-token shading values for each shading mode (with whether they are exact, given the server's list cap).
 */

export interface PromptFeature {
  index: number;
  label?: string | null;
  activation: number;
}

export interface PromptTokenData {
  position: number;
  token: string;
  /** Features active on the token (may exceed features.length when the server capped the list). */
  l0: number;
  maxActivation: number;
  /** Active features, highest first (at most the requested top-k). */
  features: readonly PromptFeature[];
}

export interface RankedFeature {
  index: number;
  label: string | null;
  /** Sum of its activations over the prompt's tokens. */
  sum: number;
  max: number;
  /** Tokens it is active on. */
  count: number;
  /** Position of its largest activation. */
  maxPosition: number;
}

export type RankKey = "sum" | "max" | "count";

/** True when every token lists all its active features (nothing cut by the server's top-k cap). */
export function listsComplete(tokens: readonly PromptTokenData[]): boolean {
  return tokens.every((t) => t.features.length >= t.l0);
}

/** Every feature active somewhere in the prompt, ranked by `by` (ties: the other measures, then the index). */
export function rankPromptFeatures(tokens: readonly PromptTokenData[], by: RankKey = "sum"): RankedFeature[] {
  const acc = new Map<number, RankedFeature>();
  for (const t of tokens)
    for (const f of t.features) {
      if (!(f.activation > 0)) continue;
      const r = acc.get(f.index) ?? { index: f.index, label: f.label ?? null, sum: 0, max: 0, count: 0, maxPosition: t.position };
      r.sum += f.activation;
      r.count += 1;
      if (f.activation > r.max) {
        r.max = f.activation;
        r.maxPosition = t.position;
      }
      acc.set(f.index, r);
    }
  const order: RankKey[] = [by, ...(["sum", "max", "count"] as const).filter((k) => k !== by)];
  return [...acc.values()].sort((a, b) => {
    for (const k of order) if (b[k] !== a[k]) return b[k] - a[k];
    return a.index - b.index;
  });
}

export interface Shading {
  values: number[];
  /** False when the server's top-k cap may have hidden activations these values depend on. */
  exact: boolean;
  /** What a value means, for the tooltip: "activation", "max activation of #3, #9", "features ≥ 1.2". */
  unit: string;
}

/** Each token's strongest feature activation (the default). */
export function shadeByMax(tokens: readonly PromptTokenData[]): Shading {
  return { values: tokens.map((t) => t.maxActivation), exact: true, unit: "strongest feature's activation" };
}

/**
 * Each token's largest activation among `features`. A token whose list was cut may hide a chosen feature below
 * the listed ones: then the value is a lower bound and `exact` is false.
 */
export function shadeByFeatures(tokens: readonly PromptTokenData[], features: readonly number[]): Shading {
  const wanted = new Set(features);
  let exact = true;
  const values = tokens.map((t) => {
    let best = 0;
    const seen = new Set<number>();
    for (const f of t.features)
      if (wanted.has(f.index)) {
        seen.add(f.index);
        best = Math.max(best, f.activation);
      }
    if (t.features.length < t.l0 && seen.size < wanted.size) exact = false;
    return best;
  });
  const names = features.map((i) => `#${i}`).join(", ");
  return { values, exact, unit: features.length === 1 ? `activation of ${names}` : `max activation of ${names}` };
}

/**
 * How many features are at or above `threshold` on each token: readable when every token has the same number of
 * active features (TopK). Exact unless a cut list is at or above the threshold all the way down.
 */
export function shadeByCount(tokens: readonly PromptTokenData[], threshold: number): Shading {
  let exact = true;
  const values = tokens.map((t) => {
    const n = t.features.filter((f) => f.activation >= threshold).length;
    if (t.features.length < t.l0 && n === t.features.length) exact = false;
    return n;
  });
  return { values, exact, unit: `features ≥ ${Number(threshold.toPrecision(3))}` };
}

/**
 * A default threshold for "count" mode: the 75th percentile of every listed activation in the prompt, to two
 * significant digits (the same prompt always gets the same value, so share links agree).
 */
export function defaultCountThreshold(tokens: readonly PromptTokenData[]): number {
  const all = tokens.flatMap((t) => t.features.map((f) => f.activation)).filter((v) => v > 0).sort((a, b) => a - b);
  if (!all.length) return 0;
  const q = all[Math.min(all.length - 1, Math.floor(0.75 * all.length))];
  return Number(q.toPrecision(2));
}
