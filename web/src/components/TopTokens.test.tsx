import { render, screen } from "@testing-library/react";
import { TopTokens } from "./TopTokens";

describe("<TopTokens>", () => {
  it("leaves out chips that would read 0 % and says how many", () => {
    render(<TopTokens tokens={[{ token: " ash", value: 0.5 }, { token: "\n", value: 0.2 }, { token: " x", value: 0.004 }, { token: " y", value: 0.001 }]} />);
    const chips = screen.getAllByRole("listitem");
    expect(chips).toHaveLength(2);
    expect(chips[0]).toHaveTextContent("␣ash"); // the leading space is visible
    expect(chips[1]).toHaveTextContent("↵");
    expect(chips.map((c) => c.textContent)).not.toContain(expect.stringMatching(/ 0%$/));
    expect(screen.getByText(/2 more tokens under 0\.5 %/)).toBeInTheDocument();
  });
});
