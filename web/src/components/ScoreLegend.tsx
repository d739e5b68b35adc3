/** The legend of the explanation scores: what each measures, on which contexts, and when there is none. */
import { HELDOUT_EVERY, MIN_HELDOUT_FIRINGS } from "../lib/scores";

export function ScoreLegend() {
  return (
    <details className="legend small" data-testid="score-legend">
      <summary>What the scores mean</summary>
      <dl className="kv">
        <dt>F1</dt>
        <dd>Harmonic mean of precision and recall of the explanation's token rule (“fires exactly on these tokens”); 1 = every firing and nothing else.</dd>
        <dt>precision</dt>
        <dd>Of the held-out occurrences of its tokens, the share on which the feature fired.</dd>
        <dt>recall</dt>
        <dd>Of the feature's held-out firings, the share on its tokens.</dd>
        <dt>held-out</dt>
        <dd>
          Every {HELDOUT_EVERY}th analysed context, never used to choose the explanation. n is the sample behind each score; [a–b] its 95 % confidence
          interval (Wilson intervals for precision and recall, F1 of their bounds for F1). No score where the feature fired fewer than {MIN_HELDOUT_FIRINGS} times
          on held-out contexts.
        </dd>
        <dt>human</dt>
        <dd>Explanations people wrote; nothing scores them yet.</dd>
      </dl>
    </details>
  );
}
