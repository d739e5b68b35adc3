import { render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { NoRuns } from "./NoRuns";

describe("<NoRuns>", () => {
  it("names the commands that make a first run, and links the Jobs page", () => {
    render(<NoRuns />, { wrapper: MemoryRouter });
    expect(screen.getByText("No runs yet")).toBeInTheDocument();
    const text = screen.getByTestId("no-runs").textContent ?? "";
    expect(text).toContain("make demo");
    expect(text).toContain("saelab register artifacts/runs/<name>");
    expect(screen.getByRole("link", { name: "Jobs" })).toHaveAttribute("href", "/jobs");
  });
});
