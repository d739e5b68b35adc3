/** The next-token prediction before and after ablating one feature (step 0 of a one-token steer). */
import type { SteerSteps } from "../hooks/useSteer";
import { fmtNumber } from "../lib/format";
import { TokenChip } from "./TokenChip";

type Step = SteerSteps[number];

function TopList({ title, tokens, testId }: { title: string; tokens: Step["baselineTop"]; testId: string }) {
  return (
    <div>
      <h3 style={{ margin: "0 0 0.3rem" }}>{title}</h3>
      <ol className="small" data-testid={testId} style={{ margin: 0, paddingLeft: "1.4rem" }}>
        {tokens.map((t, i) => (
          <li key={i}>
            <TokenChip token={t.token} /> <span className="muted">{(100 * t.probability).toFixed(2)}%</span>
          </li>
        ))}
      </ol>
    </div>
  );
}

export function AblationResult({ feature, step }: { feature: number; step: Step }) {
  return (
    <div className="stack" style={{ gap: "0.4rem" }} data-testid="ablation-result">
      <div className="small">
        Ablating #{feature}: KL(clean ‖ ablated) of the next-token distribution = <span className="mono" data-testid="ablation-kl">{fmtNumber(step.kl, 4)}</span> nats
        {step.changed ? "; the top prediction changes." : "; the top prediction stays."}
      </div>
      <div className="grid-2">
        <TopList title="Clean prediction" tokens={step.baselineTop} testId="ablation-clean-top" />
        <TopList title="With the feature ablated" tokens={step.steeredTop} testId="ablation-ablated-top" />
      </div>
    </div>
  );
}
