import { render, screen } from "@testing-library/react";
import { DataTable } from "./DataTable";

describe("<DataTable>", () => {
  it("heads each column in order with its class, tooltip, or a screen-reader-only label, above the rows", () => {
    const { container } = render(
      <DataTable testId="t" columns={["Feature", { label: "L0", className: "num", title: "active latents" }, { label: "Remove", hidden: true }]}>
        <tr data-testid="row">
          <td>#1</td>
        </tr>
      </DataTable>,
    );
    const cells = screen.getAllByRole("columnheader");
    expect(cells.map((c) => c.textContent)).toEqual(["Feature", "L0", "Remove"]);
    expect(cells[0]).not.toHaveAttribute("class");
    expect(cells[1]).toHaveClass("num");
    expect(cells[1]).toHaveAttribute("title", "active latents");
    expect(cells[2].querySelector("span.sr-only")).toHaveTextContent("Remove");
    expect(cells[1].querySelector("span")).toBeNull();
    expect(screen.getByTestId("t").querySelector("tbody")).toContainElement(screen.getByTestId("row"));
    expect(container.firstElementChild).toHaveClass("table-wrap");
  });

  it("leaves out the scrolling wrapper when asked", () => {
    const { container } = render(
      <DataTable testId="t" columns={["a"]} wrap={false}>
        {null}
      </DataTable>,
    );
    expect(container.firstElementChild).toBe(screen.getByTestId("t"));
  });
});
