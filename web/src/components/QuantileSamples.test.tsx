import { render, screen } from "@testing-library/react";
import { QuantileSamples } from "./QuantileSamples";

const ex = (quantile: number, maxActivation: number) => ({ tokens: ["a", " b"], activations: [0, maxActivation], maxPosition: 1, maxActivation, quantile });

describe("<QuantileSamples>", () => {
  it("labels groups by their activations, highest first, never as “Bin n of m”", () => {
    render(<QuantileSamples samples={[ex(0, 0.21), ex(0, 0.34), ex(1, 1.5)]} scale={2} />);
    const headings = screen.getAllByRole("heading", { level: 3 }).map((h) => h.textContent);
    expect(headings).toEqual(["Samples at 1.5", "Samples at 0.21 – 0.34"]);
    expect(screen.queryByText(/Bin \d/)).toBeNull();
  });
});
