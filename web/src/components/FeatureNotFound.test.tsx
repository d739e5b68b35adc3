import { render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { FeatureNotFound } from "./FeatureNotFound";

const hrefs = () => screen.getAllByRole("link").map((a) => a.getAttribute("href"));

describe("<FeatureNotFound>", () => {
  it("suggests only indices inside the run for an index past its end", () => {
    render(<FeatureNotFound runId="r1" runName="tiny" index={300} dSae={256} analysed runAnswered />, { wrapper: MemoryRouter });
    expect(screen.getByTestId("feature-range")).toHaveTextContent("#0 – #255");
    const indices = hrefs().map((h) => /\/features\/(\d+)$/.exec(h ?? "")?.[1]).filter(Boolean).map(Number);
    expect(indices).toEqual([255, 0]);
  });

  it("says an index inside the run has no analysis results, and claims nothing when the run could not be read", () => {
    const { unmount } = render(<FeatureNotFound runId="r1" index={12} dSae={256} analysed={false} runAnswered />, { wrapper: MemoryRouter });
    expect(screen.getByText(/has not been analysed yet/)).toBeInTheDocument();
    unmount();
    render(<FeatureNotFound runId="r1" index={12} dSae={null} analysed={false} runAnswered={false} />, { wrapper: MemoryRouter });
    expect(screen.getByText("Feature #12 not found in run r1")).toBeInTheDocument();
    expect(hrefs().some((h) => h?.includes("/features/"))).toBe(false);
  });
});
