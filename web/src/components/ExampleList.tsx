/** Activating examples of a feature, each shaded on the feature's own scale so rows compare. */
import { fmtNumber } from "../lib/format";
import { ShadedText } from "./ShadedText";

export interface ExampleData {
  tokens: readonly string[];
  activations: readonly number[];
  maxPosition: number;
  maxActivation: number;
}

export function ExampleList({ examples, scale, testId }: { examples: readonly ExampleData[]; scale: number; testId?: string }) {
  if (!examples.length) return <div className="muted small">No examples recorded.</div>;
  return (
    <div data-testid={testId}>
      {examples.map((ex, i) => (
        <div className="example row" key={i} style={{ flexWrap: "nowrap", alignItems: "baseline" }}>
          <span className="meta num mono" title="max activation in this example" style={{ minWidth: "3.5rem" }}>
            {fmtNumber(ex.maxActivation, 2)}
          </span>
          <ShadedText tokens={ex.tokens} activations={ex.activations} maxPosition={ex.maxPosition} scale={scale} />
        </div>
      ))}
    </div>
  );
}
