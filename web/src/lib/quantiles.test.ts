import { histogramShare, quantileGroups } from "./quantiles";

describe("activation-range groups", () => {
  const s = (quantile: number, maxActivation: number, edges?: [number, number]) => ({
    quantile,
    maxActivation,
    binLow: edges?.[0] ?? null,
    binHigh: edges?.[1] ?? null,
  });

  it("orders bins highest first and labels each by the span of its samples when the edges are missing", () => {
    const groups = quantileGroups([s(0, 0.2), s(2, 3.1), s(0, 0.35), s(2, 2.4)]);
    expect(groups.map((g) => g.bin)).toEqual([2, 0]);
    expect(groups[0]).toMatchObject({ low: 2.4, high: 3.1, edges: false, share: null });
    expect(groups[1]).toMatchObject({ low: 0.2, high: 0.35 });
  });

  it("uses the bin edges and the histogram's share of firings when the server sends edges", () => {
    const hist = { edges: [0.1, 1, 10], counts: [30, 10] };
    const g = quantileGroups([s(1, 3, [1, 10]), s(0, 0.5, [0.1, 1])], hist);
    expect(g[0]).toMatchObject({ low: 1, high: 10, edges: true });
    expect(g[0].share).toBeCloseTo(0.25);
    expect(g[1].share).toBeCloseTo(0.75);
  });

  it("splits a histogram bin by log overlap for log-spaced edges", () => {
    // one bin [1, 100): half of it in log space is [1, 10)
    expect(histogramShare({ edges: [1, 100], counts: [10] }, 1, 10)).toBeCloseTo(0.5);
    expect(histogramShare(null, 1, 2)).toBeNull();
    expect(histogramShare({ edges: [1, 2], counts: [0] }, 1, 2)).toBeNull();
  });
});
