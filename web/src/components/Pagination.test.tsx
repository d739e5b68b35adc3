import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Pagination } from "./Pagination";

describe("<Pagination>", () => {
  it("marks the current page and asks for the page clicked", async () => {
    const onPage = vi.fn();
    render(<Pagination page={3} pageSize={50} total={1000} onPage={onPage} />);
    expect(screen.getByRole("button", { name: "Page 3" })).toHaveAttribute("aria-current", "page");
    expect(screen.getByTestId("page-range")).toHaveTextContent("101–150 of 1,000");
    await userEvent.click(screen.getByRole("button", { name: "Page 20" }));
    await userEvent.click(screen.getByRole("button", { name: "Next page" }));
    await userEvent.click(screen.getByRole("button", { name: "Previous page" }));
    expect(onPage.mock.calls.map((c) => c[0])).toEqual([20, 4, 2]);
  });

  it("disables previous on the first page and next on the last", () => {
    const { rerender } = render(<Pagination page={1} pageSize={50} total={120} onPage={() => {}} />);
    expect(screen.getByRole("button", { name: "Previous page" })).toBeDisabled();
    expect(screen.getByRole("button", { name: "Next page" })).toBeEnabled();
    rerender(<Pagination page={3} pageSize={50} total={120} onPage={() => {}} />);
    expect(screen.getByRole("button", { name: "Next page" })).toBeDisabled();
  });
});
