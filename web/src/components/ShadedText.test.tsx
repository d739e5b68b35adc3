import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { ShadedText } from "./ShadedText";

describe("<ShadedText>", () => {
  const tokens = ["The", " cat", " sat", "\n"];
  const acts = [0, 3.5, 1, 0];

  it("shades only active tokens, marks the max token and shows the value on hover", () => {
    render(<ShadedText tokens={tokens} activations={acts} />);
    const max = screen.getByTestId("max-token");
    expect(max).toHaveTextContent("cat");
    expect(max).toHaveAttribute("title", '" cat" → 3.5');
    expect(screen.getByText("The")).toHaveStyle({ background: "transparent" });
    expect(screen.getByText("sat").getAttribute("style")).toContain("rgba(");
    expect(screen.getByText("↵")).toBeInTheDocument(); // newline made visible
  });

  it("uses the given scale so rows of one feature compare", () => {
    render(<ShadedText tokens={["a", "b"]} activations={[1, 1]} scale={10} />);
    const alpha = (el: HTMLElement) => Number(/, ([\d.]+)\)/.exec(el.getAttribute("style") ?? "")![1]);
    expect(alpha(screen.getByText("a"))).toBeLessThan(0.3);
  });

  it("reports the clicked position when tokens are clickable", async () => {
    const onClick = vi.fn();
    render(<ShadedText tokens={tokens} activations={acts} onTokenClick={onClick} selected={2} />);
    await userEvent.click(screen.getByRole("button", { name: "cat" }));
    expect(onClick).toHaveBeenCalledWith(1);
    expect(screen.getByRole("button", { name: "sat" })).toHaveAttribute("aria-pressed", "true");
  });
});
