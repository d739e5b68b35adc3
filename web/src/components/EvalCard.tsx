/** A run's held-out evaluation: EV, L0, CE loss recovered, KL, MSE, dead and dense, each saying what it was measured on. */
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
  /** Every number of eval.json (n_tokens, ce_tokens, ...). */
  values?: unknown;
}

const count = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? Math.round(v).toLocaleString("en") : null);

export function EvalCard({ evaluation }: { evaluation: Evaluation }) {
  const values = (evaluation.values ?? {}) as Record<string, unknown>;
  const recon = count(values.n_tokens);
  const ce = count(values.ce_tokens);
  const on = recon ? ` on ${recon} held-out tokens` : " on held-out tokens";
  return (
    <div className="stack" style={{ gap: "0.4rem" }}>
      <div className="small muted" data-testid="eval-split">
        Held-out split (contexts never trained on): reconstruction metrics on {recon ?? "?"} tokens, CE loss and KL on {ce ?? "?"} tokens; raw (un-normalised)
        activations.
      </div>
      <StatCards
        testId="eval-card"
        stats={[
          { name: "explained variance", value: fmtPercent(evaluation.explainedVariance), hint: `1 − residual / total variance${on}` },
          { name: "L0", value: fmtNumber(evaluation.l0, 2), hint: `mean active features per token${on}` },
          { name: "CE loss recovered", value: fmtPercent(evaluation.ceLossRecovered), hint: `share of the CE-loss gap (zero-ablation vs clean) the SAE closes, on ${ce ?? "?"} tokens` },
          { name: "KL divergence", value: fmtNumber(evaluation.klDivergence, 4), hint: `KL(clean ‖ SAE spliced in) per token, on ${ce ?? "?"} tokens` },
          { name: "MSE (sum over d_in)", value: fmtNumber(evaluation.mse, 4), hint: `squared error summed over d_in, mean per token${on}; raw activations` },
          { name: "dead (held-out)", value: fmtPercent(evaluation.deadFraction), hint: `features that never fired${on}` },
          { name: "dense (held-out)", value: fmtPercent(evaluation.denseFraction), hint: `features firing on more than 10 % of the tokens${on.replace(" on", " among")}` },
        ]}
      />
    </div>
  );
}
