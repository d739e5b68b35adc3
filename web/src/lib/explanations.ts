/**
 * A feature's explanations as a list, each with the method and model that made it and its scores. Today's schema
 * has one label per feature (labelSource auto | human, labelDescription, labelScore); the list is built from
 * it so the page already shows explanations the way a server-side list (method, model, scores with their
 * sample) will arrive.
 */
import { labelScoreCaveat, LABEL_SCORE_HELP } from "./scores";

export interface ExplanationScore {
  /** e.g. "label F1 (held-out)", later "detection", "fuzzing". */
  name: string;
  value: number | null;
  help: string;
  /** Why the number should not be read as evidence (small sample, belongs to another label), if so. */
  caveat: string | null;
}

export interface Explanation {
  text: string;
  detail: string | null;
  /** How it was made: "offline token-list labeller", "human", later e.g. "oai_token-act-pair". */
  method: string;
  /** The model that wrote it (null for the offline labeller and people). */
  model: string | null;
  scores: ExplanationScore[];
}

export interface LabelFields {
  label?: string | null;
  labelSource?: string | null;
  labelDescription?: string | null;
  labelScore?: number | null;
  nActive?: number | null;
}

export const OFFLINE_METHOD = "offline token-list labeller";

export function explanationsOf(f: LabelFields): Explanation[] {
  if (!f.label) return [];
  const human = f.labelSource === "human";
  const scores: ExplanationScore[] =
    f.labelScore == null
      ? []
      : [{ name: human ? "label F1 of the replaced auto label" : "label F1 (held-out)", value: f.labelScore, help: LABEL_SCORE_HELP, caveat: labelScoreCaveat(f.nActive, f.labelSource) }];
  return [{ text: f.label, detail: f.labelDescription ?? null, method: human ? "human" : OFFLINE_METHOD, model: null, scores }];
}
