import { render, screen, within } from "@testing-library/react";
import { SteerComparison } from "./SteerComparison";

const tp = (token: string, probability = 0.5) => ({ token, probability });

describe("<SteerComparison>", () => {
  it("shows both continuations and marks only the tokens that differ", () => {
    const steps = [
      { position: 3, kl: 0, changed: false, baseline: tp(" the"), steered: tp(" the"), baselineTop: [tp(" the")], steeredTop: [tp(" the")] },
      { position: 4, kl: 1.2, changed: true, baseline: tp(" cat"), steered: tp(" sun"), baselineTop: [tp(" cat")], steeredTop: [tp(" sun")] },
      { position: 5, kl: 0.1, changed: true, baseline: null, steered: tp(" shone"), baselineTop: [], steeredTop: [tp(" shone")] },
    ];
    render(<SteerComparison promptTokens={["Once", " upon"]} steps={steps} />);
    const clean = within(screen.getByTestId("steer-baseline")).getAllByTestId("steer-token");
    const steered = within(screen.getByTestId("steer-steered")).getAllByTestId("steer-token");
    const tokenOf = (t: HTMLElement) => JSON.parse(t.querySelector(".tokchip")!.getAttribute("title")!.slice("token ".length));
    expect(clean.map(tokenOf)).toEqual([" the", " cat"]); // the clean side ended at step 4
    expect(steered.map(tokenOf)).toEqual([" the", " sun", " shone"]);
    expect(steered.map((t) => t.getAttribute("data-changed"))).toEqual(["false", "true", "true"]);
    expect(steered[1]).toHaveClass("steer-changed");
    expect(clean[0]).not.toHaveClass("steer-changed");
    expect(screen.getByTestId("steer-summary")).toHaveTextContent("After “Once upon”: 2 of 3 generated tokens differ");
  });

  it("draws a whitespace-only token with a visible mark (a steered newline is not an empty gap)", () => {
    const steps = [{ position: 3, kl: 2, changed: true, baseline: tp(" the"), steered: tp("\n"), baselineTop: [], steeredTop: [] }];
    render(<SteerComparison promptTokens={["Once"]} steps={steps} />);
    const [token] = within(screen.getByTestId("steer-steered")).getAllByTestId("steer-token");
    expect(token.querySelector(".tok-mark")).toHaveTextContent("↵");
  });
});
