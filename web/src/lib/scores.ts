/**
 * What the feature scores mean, in one place for tooltips, legends and the explanation list. The server sends each
 * score's own help text, sample and interval (shared/explanations.py); the constants here mirror it for the legends.
 */

/** shared.explanations.MIN_HELDOUT_FIRINGS: held-out firings below which a token-rule score has no value. */
export const MIN_HELDOUT_FIRINGS = 10;
/** AnalyseConfig.heldout_every's default: every 5th context is held out to score labels. */
export const HELDOUT_EVERY = 5;

export const F1_HELP = `F1 (held-out): how well the offline label's token rule (“fires exactly on these tokens”) predicts the feature's firings on held-out contexts (every ${HELDOUT_EVERY}th context, never used to choose the label). 1 = every firing and nothing else; 0 = no overlap. No value where the feature fired fewer than ${MIN_HELDOUT_FIRINGS} times on held-out contexts.`;

export const DENSITY_HELP = "Density: share of the analysed tokens on which the feature fired (log scale: each tick is ten times the one before).";

export const DENSE_HELP = "Dense: fires on more than the run's dense threshold of tokens; a token-rule score of such a feature says little about what it represents.";

export interface ScoreView {
  name: string;
  value: number | null;
  ciLow?: number | null;
  ciHigh?: number | null;
  n: number;
  unit: string;
  reason?: string | null;
  help: string;
}

/** A score value as every page shows it (two decimals: the table, the stat card and the explanation agree). */
export const fmtScoreValue = (v: number) => v.toFixed(2);
const two = fmtScoreValue;

/** "0.82 [0.71–0.90]" or "no score" (the interval is the 95 % confidence interval). */
export function fmtScore(s: ScoreView): string {
  if (s.value == null) return "no score";
  return s.ciLow != null && s.ciHigh != null ? `${two(s.value)} [${two(s.ciLow)}–${two(s.ciHigh)}]` : two(s.value);
}

/** The tooltip of a score: what it measures, on how many held-out items, and its interval. */
export function scoreTitle(s: ScoreView): string {
  const sample = `Measured on ${s.n.toLocaleString("en")} ${s.unit}.`;
  if (s.value == null) return `${s.help} ${sample} No score: ${s.reason ?? "too small a sample"}.`;
  const ci = s.ciLow != null && s.ciHigh != null ? ` 95 % confidence interval ${two(s.ciLow)}–${two(s.ciHigh)}.` : "";
  return `${s.help} ${sample}${ci}`;
}

/** Why a feature-row label score should not be read as this label's, or null. */
export function labelScoreCaveat(labelSource?: string | null): string | null {
  return labelSource === "human" ? "This score belongs to the offline label the human label replaced." : null;
}
