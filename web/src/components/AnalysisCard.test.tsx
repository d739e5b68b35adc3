import { render, screen } from "@testing-library/react";
import { AnalysisCard, analysisSummary } from "./AnalysisCard";

describe("the run page's analysis card", () => {
  it("reads the summary's counts, and nothing from an incomplete one", () => {
    const s = analysisSummary({ n_tokens: 4096, d_sae: 256, n_dead: 12, n_dense: 3, dense_threshold: 0.1 });
    expect(s).toEqual({ nTokens: 4096, dSae: 256, nDead: 12, nDense: 3, denseThreshold: 0.1 });
    expect(analysisSummary({ n_tokens: 4096 })).toBeNull();
    expect(analysisSummary(null)).toBeNull();
  });

  it("shows dead and dense as counts of the dictionary with the share the histogram quotes", () => {
    render(<AnalysisCard summary={{ nTokens: 4096, dSae: 256, nDead: 12, nDense: 3, denseThreshold: 0.1 }} />);
    expect(screen.getByText("12 of 256 (4.69%)")).toBeInTheDocument();
    expect(screen.getByText("3 of 256 (1.17%)")).toBeInTheDocument();
    expect(screen.getByText("4,096")).toBeInTheDocument();
  });
});
