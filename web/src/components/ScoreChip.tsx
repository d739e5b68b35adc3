/** One named score: name, value with its 95 % interval (or "no score"), and a tooltip with what it measures and its sample. */
import { fmtScore, scoreTitle, type ScoreView } from "../lib/scores";

export function ScoreChip({ score }: { score: ScoreView }) {
  const title = scoreTitle(score);
  return (
    <span className="small score-chip" title={title} data-testid="score" data-score-name={score.name}>
      {score.name}: <strong data-testid="score-value">{fmtScore(score)}</strong>
      <span className="muted"> · n = {score.n.toLocaleString("en")}</span>
      <span className="sr-only"> ({title})</span>
    </span>
  );
}
