/** The clean and the steered continuation side by side; tokens where the two differ are marked. */
import type { SteerSteps } from "../hooks/useSteer";
import { TokenChip } from "./TokenChip";

type Steps = SteerSteps;

function Continuation({ steps, side, label }: { steps: Steps; side: "baseline" | "steered"; label: string }) {
  return (
    <div className="stack" style={{ gap: "0.3rem" }} data-testid={`steer-${side}`}>
      <h3 style={{ margin: 0 }}>{label}</h3>
      <div className="tokens">
        {steps.map((s) => {
          const t = s[side];
          if (!t) return null;
          return (
            <span
              key={s.position}
              className={s.changed ? "tok steer-changed" : "tok"}
              data-changed={s.changed}
              data-testid="steer-token"
              title={`p = ${t.probability.toFixed(3)}${s.changed ? " (differs from the other side)" : ""}`}
            >
              <TokenChip token={t.token} />
            </span>
          );
        })}
      </div>
    </div>
  );
}

export function SteerComparison({ promptTokens, steps }: { promptTokens: string[]; steps: Steps }) {
  const changed = steps.filter((s) => s.changed).length;
  return (
    <div className="stack" style={{ gap: "0.5rem" }}>
      <div className="small muted" data-testid="steer-summary">
        After “{promptTokens.join("")}”: {changed} of {steps.length} generated tokens differ (marked).
      </div>
      <div className="grid-2">
        <Continuation steps={steps} side="baseline" label="Clean model" />
        <Continuation steps={steps} side="steered" label="Steered" />
      </div>
    </div>
  );
}
