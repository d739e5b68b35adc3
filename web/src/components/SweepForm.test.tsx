import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { SweepForm } from "./SweepForm";

const DATASETS = [{ id: "d1", name: "tiny", model: "gpt2", hook: "blocks.2.hook_resid_pre", complete: true }];

describe("<SweepForm>", () => {
  it("submits the shared keys once and a config per SAE row", async () => {
    const onSubmit = vi.fn().mockResolvedValue(null);
    render(<SweepForm datasets={DATASETS} submitting={false} onSubmit={onSubmit} />);
    await userEvent.selectOptions(screen.getByLabelText("Sweep dataset"), "d1");
    await userEvent.click(screen.getByRole("button", { name: "Add an SAE" }));
    await userEvent.selectOptions(screen.getByLabelText("SAE 3 architecture"), "jumprelu");
    expect(screen.queryByLabelText("SAE 3 k")).not.toBeInTheDocument();
    await userEvent.clear(screen.getByLabelText("SAE 3 L0 coefficient"));
    await userEvent.type(screen.getByLabelText("SAE 3 L0 coefficient"), "0.25");
    await userEvent.click(screen.getByRole("button", { name: "Remove SAE 1" }));
    await userEvent.click(screen.getByRole("button", { name: "Submit sweep" }));
    expect(onSubmit).toHaveBeenCalledTimes(1);
    const input = onSubmit.mock.calls[0][0];
    expect(input.datasetId).toBe("d1");
    expect(input.common).toEqual({ n_steps: 500, batch_size: 1024, lr: 0.0004, seed: 0 });
    expect(input.saes).toEqual([
      { architecture: "topk", d_sae: 256, k: 16 },
      { architecture: "jumprelu", d_sae: 256, l0_coefficient: 0.25 },
    ]);
    expect(input.analyse).toEqual({});
  });

  it("checks rows in the browser and shows the server's messages on the row they name", async () => {
    const onSubmit = vi.fn().mockResolvedValue({ fields: { "members.1.dSae": "too wide for this dataset" }, general: ["queue is full"] });
    render(<SweepForm datasets={DATASETS} submitting={false} onSubmit={onSubmit} />);
    await userEvent.click(screen.getByRole("button", { name: "Submit sweep" }));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByLabelText("Sweep dataset")).toHaveAttribute("aria-invalid", "true");
    await userEvent.selectOptions(screen.getByLabelText("Sweep dataset"), "d1");
    await userEvent.clear(screen.getByLabelText("SAE 2 k"));
    await userEvent.type(screen.getByLabelText("SAE 2 k"), "999");
    await userEvent.click(screen.getByRole("button", { name: "Submit sweep" }));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByText("k (999) cannot exceed d_sae (256).")).toBeInTheDocument();
    await userEvent.clear(screen.getByLabelText("SAE 2 k"));
    await userEvent.type(screen.getByLabelText("SAE 2 k"), "8");
    await userEvent.click(screen.getByRole("button", { name: "Submit sweep" }));
    expect(await screen.findByText("too wide for this dataset")).toBeInTheDocument();
    expect(screen.getByLabelText("SAE 2 d_sae")).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByTestId("sweep-errors")).toHaveTextContent("queue is full");
  });
});
