/** Examples sampled across the activation range, grouped by bin (highest bin first). */
import { ExampleList, type ExampleData } from "./ExampleList";

type Sample = ExampleData & { quantile?: number | null };

export function QuantileSamples({ samples, scale }: { samples: readonly Sample[]; scale: number }) {
  if (!samples.length) return <div className="muted small">No quantile samples recorded.</div>;
  const bins = new Map<number, Sample[]>();
  for (const s of samples) {
    const q = s.quantile ?? 0;
    bins.set(q, [...(bins.get(q) ?? []), s]);
  }
  const order = [...bins.keys()].sort((a, b) => b - a);
  return (
    <div className="stack" data-testid="quantile-samples">
      {order.map((q) => (
        <div key={q}>
          <h3>
            Bin {q + 1} of {order.length}
          </h3>
          <ExampleList examples={bins.get(q) ?? []} scale={scale} />
        </div>
      ))}
    </div>
  );
}
