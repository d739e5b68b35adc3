/** A feature's explanations as the API sends them: text, the method and model that made it, named scores. */
import type { ScoreView } from "./scores";

export interface ExplanationView {
  id: string;
  text: string;
  description?: string | null;
  /** "offline token-list labeller", "human", or an explainer's method name. */
  method: string;
  /** The model that wrote it (null for the offline labeller and people). */
  model?: string | null;
  author: string;
  editable: boolean;
  scores: readonly ScoreView[];
  sampleSize?: number | null;
  sampleUnit?: string | null;
}

export const OFFLINE_METHOD = "offline token-list labeller";

/** The F1 score of the offline labeller's explanation: the number the explorer's "F1" column also shows. */
export function offlineF1(explanations: readonly ExplanationView[]): ScoreView | null {
  const offline = explanations.find((e) => e.method === OFFLINE_METHOD);
  return offline?.scores.find((s) => s.name === "F1") ?? null;
}

/** "offline token-list labeller" or "llm explainer · gpt-4o-mini". */
export function methodText(e: Pick<ExplanationView, "method" | "model">): string {
  return e.model ? `${e.method} · ${e.model}` : e.method;
}
