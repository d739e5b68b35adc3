/** "Test a prompt": this feature's activation on every token of the typed text, refreshed as you type (debounced). */
import { useState } from "react";
import { InlineError } from "./InlineError";
import { useDebouncedValue } from "../hooks/useDebouncedValue";
import { useFeatureTrace } from "../hooks/useFeatureTrace";
import { fmtNumber } from "../lib/format";
import { ShadedText } from "./ShadedText";

export function PromptTester({ runId, index, scale }: { runId: string; index: number; scale: number }) {
  const [text, setText] = useState("");
  const debounced = useDebouncedValue(text, 400);
  const { trace, fetching, error, retry } = useFeatureTrace(runId, index, debounced);
  const pending = text !== debounced || fetching;
  return (
    <div className="stack" style={{ gap: "0.5rem" }} data-testid="prompt-tester">
      <textarea rows={2} placeholder="Type a prompt to see this feature's activation on each token…" aria-label="Test a prompt" value={text} onChange={(e) => setText(e.target.value)} />
      {error ? (
        <InlineError error={error} onRetry={retry} />
      ) : trace ? (
        <div style={{ opacity: pending ? 0.6 : 1 }}>
          <ShadedText tokens={trace.tokens} activations={trace.activations} scale={Math.max(scale, trace.maxActivation)} label="Prompt activations" />
          <div className="small muted">max activation here: {fmtNumber(trace.maxActivation, 3)}</div>
        </div>
      ) : (
        text.trim() && <div className="small muted">Running…</div>
      )}
    </div>
  );
}
