/**
 * "Steer": add this feature's decoder direction to the residual stream (strength = a multiple of its max activation,
 * the slider) and continue a prompt, beside the clean model.
 */
import { useState } from "react";
import { InlineError } from "./InlineError";
import { MAX_NEW_TOKENS, useSteer } from "../hooks/useSteer";
import { fmtNumber } from "../lib/format";
import { SteerComparison } from "./SteerComparison";
import { SteerTopTokens } from "./SteerTopTokens";

const DEFAULT_PROMPT = "Once upon a time, there was a little";
const MAX_MULTIPLE = 10;

export function SteerPanel({ runId, index, maxActivation }: { runId: string; index: number; maxActivation: number }) {
  const [prompt, setPrompt] = useState(DEFAULT_PROMPT);
  const [multiple, setMultiple] = useState(4);
  const [newTokens, setNewTokens] = useState(16);
  const { run, result, fetching, error, retry } = useSteer(runId);
  const scale = maxActivation > 0 ? maxActivation : 1;
  const strength = multiple * scale;
  const submit = () =>
    run({ prompt, maxNewTokens: newTokens, interventions: [{ feature: index, kind: "STEER", value: strength }] });
  return (
    <div className="stack" style={{ gap: "0.6rem" }} data-testid="steer-panel">
      <textarea rows={2} aria-label="Steering prompt" value={prompt} onChange={(e) => setPrompt(e.target.value)} />
      <div className="row">
        <label className="row" style={{ gap: "0.4rem" }}>
          strength
          <input
            type="range"
            aria-label="Steering strength (multiples of the max activation)"
            min={-MAX_MULTIPLE}
            max={MAX_MULTIPLE}
            step={0.5}
            value={multiple}
            onChange={(e) => setMultiple(Number(e.target.value))}
          />
          <span className="mono small" data-testid="steer-strength">
            {multiple} × max activation = {fmtNumber(strength, 3)}
          </span>
        </label>
        <label className="row" style={{ gap: "0.4rem" }}>
          new tokens
          <input type="number" aria-label="New tokens" min={1} max={MAX_NEW_TOKENS} value={newTokens} onChange={(e) => setNewTokens(Math.max(1, Math.min(MAX_NEW_TOKENS, Number(e.target.value) || 1)))} style={{ width: "5em" }} />
        </label>
        <button type="button" onClick={submit} disabled={!prompt.trim() || fetching}>
          {fetching ? "Steering…" : "Steer"}
        </button>
      </div>
      {error ? (
        <InlineError error={error} onRetry={retry} />
      ) : result ? (
        <div className="stack" style={{ gap: "0.6rem", opacity: fetching ? 0.6 : 1 }}>
          <SteerComparison promptTokens={result.promptTokens} steps={result.steps} />
          <SteerTopTokens steps={result.steps} />
        </div>
      ) : (
        <div className="small muted">Steering adds strength × this feature's decoder direction at every position (the SAE's error is kept), then generates greedily.</div>
      )}
    </div>
  );
}
