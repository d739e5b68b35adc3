/**
 * What the feature scores mean, in one place for tooltips, legends and the explanations list. The numbers mirror
 * services/analyser/labels.py (grade thresholds, minimum support) and AnalyseConfig.heldout_every.
 */

export const GRADE_HIGH = 0.7;
export const GRADE_MEDIUM = 0.4;
/** AnalyseConfig.heldout_every's default: every 5th context is held out to score labels. */
export const HELDOUT_EVERY = 5;
/** Held-out firings the analyser needs before it grades (MIN_SUPPORT). */
export const MIN_SUPPORT = 3;
/**
 * Firings below which a label score rests on too few held-out firings to mean much: the analyser's minimum
 * support times the held-out share. An estimate (the server does not send the held-out count yet).
 */
export const SMALL_SAMPLE_FIRINGS = MIN_SUPPORT * HELDOUT_EVERY;

export const LABEL_SCORE_HELP =
  "Label score: F1 of the label's rule (“fires exactly on these tokens”) on held-out contexts (every 5th context, never used to choose the label). 1 = the rule predicts every firing and nothing else; 0 = no overlap.";

export const GRADE_HELP = `Grade of the auto label, from its label score: High ≥ ${GRADE_HIGH}, Medium ≥ ${GRADE_MEDIUM}, else Low; none with fewer than ${MIN_SUPPORT} held-out firings. It grades how well the token-list label fits, not the feature: a dense feature firing on punctuation can be High.`;

export const DENSITY_HELP = "Density: share of the analysed tokens on which the feature fired (log scale: each tick is ten times the one before).";

/** Why a label score should not be read as evidence, or null when it may be. */
export function labelScoreCaveat(nActive: number | null | undefined, labelSource?: string | null): string | null {
  if (labelSource === "human") return "This score belongs to the auto label the human label replaced.";
  if (typeof nActive === "number" && nActive < SMALL_SAMPLE_FIRINGS)
    return `Fired on only ${nActive} analysed token${nActive === 1 ? "" : "s"} (about ${Math.round(nActive / HELDOUT_EVERY)} held out): too few for the score to mean much.`;
  return null;
}
