/**
 * Quantile samples grouped by activation-range bin and labelled by their range instead of "Bin 3 of 3".
 * The server stores each bin's edges (ExampleRecord.bin_range) but the GraphQL `Example` type does not carry
 * them yet: until it does (`binLow` / `binHigh`), a group is labelled by the range its samples span, which is
 * said as such; the share of firings in a bin needs those edges and is shown only when they are there.
 */

/** A feature's activation histogram (edges and counts, as the schema's Histogram). */
export interface HistogramLike {
  edges: readonly number[];
  counts: readonly number[];
}

export interface QuantileSample {
  maxActivation: number;
  quantile?: number | null;
  /** Bin edges, once the schema has them. */
  binLow?: number | null;
  binHigh?: number | null;
}

export interface QuantileGroup<S> {
  bin: number;
  samples: S[];
  low: number;
  high: number;
  /** True when low/high are the bin's edges; false when they are the span of the samples shown. */
  edges: boolean;
  /** Share of the feature's firings inside the bin (from its histogram), when the edges are known. */
  share: number | null;
}

/** Share of histogram counts in [low, high): whole bins inside, partial bins by their overlap (log-spaced bins: in log space). */
export function histogramShare(h: HistogramLike | null | undefined, low: number, high: number): number | null {
  if (!h || !h.counts.length || !(high > low)) return null;
  const total = h.counts.reduce((a, b) => a + b, 0);
  if (total <= 0) return null;
  const logSpaced = h.edges[0] > 0;
  const t = (x: number) => (logSpaced ? Math.log(Math.max(x, Number.MIN_VALUE)) : x);
  let inside = 0;
  h.counts.forEach((c, i) => {
    const a = h.edges[i];
    const b = h.edges[i + 1];
    if (b === undefined || !(b > a)) return;
    const overlap = Math.min(t(b), t(high)) - Math.max(t(a), t(low));
    if (overlap > 0) inside += (c * overlap) / (t(b) - t(a));
  });
  return Math.min(1, inside / total);
}

/** Groups, highest bin first. */
export function quantileGroups<S extends QuantileSample>(samples: readonly S[], histogram?: HistogramLike | null): QuantileGroup<S>[] {
  const bins = new Map<number, S[]>();
  for (const s of samples) {
    const q = s.quantile ?? 0;
    bins.set(q, [...(bins.get(q) ?? []), s]);
  }
  return [...bins.entries()]
    .sort((a, b) => b[0] - a[0])
    .map(([bin, group]) => {
      const withEdges = group.find((s) => s.binLow != null && s.binHigh != null);
      if (withEdges) {
        const low = withEdges.binLow!;
        const high = withEdges.binHigh!;
        return { bin, samples: group, low, high, edges: true, share: histogramShare(histogram, low, high) };
      }
      const acts = group.map((s) => s.maxActivation);
      return { bin, samples: group, low: Math.min(...acts), high: Math.max(...acts), edges: false, share: null };
    });
}
