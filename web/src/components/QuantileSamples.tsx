/** Examples sampled across the activation range, one group per range (highest first), each labelled by its range. */
import { fmtNumber, fmtPercent } from "../lib/format";
import { quantileGroups, type HistogramLike, type QuantileSample } from "../lib/quantiles";
import { ExampleList, type ExampleData } from "./ExampleList";

type Sample = ExampleData & QuantileSample;

export function QuantileSamples({ samples, scale, histogram }: { samples: readonly Sample[]; scale: number; histogram?: HistogramLike | null }) {
  if (!samples.length) return <div className="muted small">No quantile samples recorded.</div>;
  const groups = quantileGroups(samples, histogram);
  const spansOnly = groups.some((g) => !g.edges);
  return (
    <div className="stack" data-testid="quantile-samples">
      {spansOnly && (
        <div className="small muted">
          Random samples from activation-range bins (half a decade wide). Each group is labelled by the activations of the samples
          shown; the server does not send the bins' edges or their share of firings yet.
        </div>
      )}
      {groups.map((g) => (
        <div key={g.bin} data-testid="quantile-group">
          <h3>
            {g.edges ? "Activations " : "Samples at "}
            {g.low === g.high ? fmtNumber(g.low, 3) : `${fmtNumber(g.low, 3)} – ${fmtNumber(g.high, 3)}`}
            {g.share !== null && <span className="muted"> · {fmtPercent(g.share, 1)} of firings</span>}
          </h3>
          <ExampleList examples={g.samples} scale={scale} />
        </div>
      ))}
    </div>
  );
}
