/** A run's held-out evaluation: EV, L0, CE loss recovered, KL, dead and dense fractions. */
import { fmtNumber, fmtPercent } from "../lib/format";
import { StatCards } from "./StatCards";

interface Evaluation {
  explainedVariance?: number | null;
  l0?: number | null;
  mse?: number | null;
  ceLossRecovered?: number | null;
  klDivergence?: number | null;
  deadFraction?: number | null;
  denseFraction?: number | null;
}

export function EvalCard({ evaluation }: { evaluation: Evaluation }) {
  return (
    <StatCards
      testId="eval-card"
      stats={[
        { name: "explained variance", value: fmtPercent(evaluation.explainedVariance) },
        { name: "L0", value: fmtNumber(evaluation.l0, 2), hint: "active features per token" },
        { name: "CE loss recovered", value: fmtPercent(evaluation.ceLossRecovered) },
        { name: "KL divergence", value: fmtNumber(evaluation.klDivergence, 4) },
        { name: "MSE", value: fmtNumber(evaluation.mse, 4) },
        {
          name: "dead",
          value: fmtPercent(evaluation.deadFraction),
          hint: "fire on none of the held-out tokens measured (eval.json n_tokens)",
        },
        { name: "dense", value: fmtPercent(evaluation.denseFraction), hint: "fire on more than 10% of them" },
      ]}
    />
  );
}
