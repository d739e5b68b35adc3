import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { JobForm } from "./JobForm";

describe("<JobForm>", () => {
  it("shows client-side messages and does not submit an invalid form", async () => {
    const onSubmit = vi.fn();
    render(<JobForm datasets={[]} submitting={false} onSubmit={onSubmit} />);
    const dSae = screen.getByLabelText("d_sae");
    await userEvent.clear(dSae);
    await userEvent.type(dSae, "zero");
    await userEvent.click(screen.getByRole("button", { name: "Submit pipeline" }));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByText("d_sae must be a whole number ≥ 1.")).toBeInTheDocument();
    expect(dSae).toHaveAttribute("aria-invalid", "true");
  });

  it("shows the server's validation messages next to the fields they name", async () => {
    const onSubmit = vi.fn().mockResolvedValue({ fields: { k: "required when architecture is 'topk'" }, general: ["queue is full"] });
    render(<JobForm datasets={[]} submitting={false} onSubmit={onSubmit} />);
    await userEvent.selectOptions(screen.getByLabelText("Architecture"), "topk");
    await userEvent.click(screen.getByRole("button", { name: "Submit pipeline" }));
    expect(onSubmit).toHaveBeenCalledTimes(1);
    expect(onSubmit.mock.calls[0][0].input.train).toMatchObject({ architecture: "topk", k: 32 });
    expect(await screen.findByText("required when architecture is 'topk'")).toBeInTheDocument();
    expect(screen.getByLabelText("k")).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByTestId("form-errors")).toHaveTextContent("queue is full");
  });

  it("offers every architecture with its own keys", async () => {
    const onSubmit = vi.fn().mockResolvedValue(null);
    render(<JobForm datasets={[]} submitting={false} onSubmit={onSubmit} />);
    const arch = screen.getByLabelText("Architecture");
    expect(Array.from((arch as HTMLSelectElement).options).map((o) => o.value)).toEqual(["relu", "topk", "batchtopk", "jumprelu", "matryoshka_batchtopk", "gated"]);
    await userEvent.selectOptions(arch, "jumprelu");
    expect(screen.queryByLabelText("k")).not.toBeInTheDocument();
    expect(screen.queryByLabelText("L1 coefficient")).not.toBeInTheDocument();
    await userEvent.clear(screen.getByLabelText("L0 coefficient"));
    await userEvent.type(screen.getByLabelText("L0 coefficient"), "0.3");
    await userEvent.click(screen.getByRole("button", { name: "Submit pipeline" }));
    expect(onSubmit.mock.calls[0][0].input.train).toMatchObject({ architecture: "jumprelu", l0_coefficient: 0.3, jumprelu_bandwidth: 0.05 });
    await userEvent.selectOptions(arch, "matryoshka_batchtopk");
    expect(screen.getByLabelText("k")).toBeInTheDocument();
    await userEvent.type(screen.getByLabelText("Prefix widths"), "64, 256");
    await userEvent.click(screen.getByRole("button", { name: "Submit pipeline" }));
    expect(onSubmit.mock.calls[1][0].input.train).toMatchObject({ architecture: "matryoshka_batchtopk", k: 32, matryoshka_widths: [64, 256] });
    await userEvent.selectOptions(arch, "gated");
    expect(screen.getByLabelText("L1 coefficient")).toBeInTheDocument();
    expect(screen.queryByLabelText("Prefix widths")).not.toBeInTheDocument();
  });

  it("clears a field's message when it is edited", async () => {
    render(<JobForm datasets={[]} submitting={false} onSubmit={vi.fn()} />);
    const steps = screen.getByLabelText("Steps");
    await userEvent.clear(steps);
    await userEvent.click(screen.getByRole("button", { name: "Submit pipeline" }));
    expect(screen.getByText("Steps must be a whole number ≥ 1.")).toBeInTheDocument();
    await userEvent.type(steps, "5");
    expect(screen.queryByText("Steps must be a whole number ≥ 1.")).not.toBeInTheDocument();
  });

  it("switches to a training job that needs a complete dataset", async () => {
    const onSubmit = vi.fn().mockResolvedValue(null);
    const datasets = [
      { id: "d1", name: "tiny", model: "gpt2", hook: "blocks.1.hook_resid_pre", complete: true },
      { id: "d2", name: "half", model: "gpt2", hook: "blocks.1.hook_resid_pre", complete: false },
    ];
    render(<JobForm datasets={datasets} submitting={false} onSubmit={onSubmit} />);
    await userEvent.click(screen.getByLabelText(/Training on a collected dataset/));
    expect(screen.queryByLabelText("Model")).not.toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Submit training" }));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByRole("option", { name: /half/ })).toBeDisabled();
    await userEvent.selectOptions(screen.getByLabelText("Dataset"), "d1");
    await userEvent.click(screen.getByRole("button", { name: "Submit training" }));
    expect(onSubmit).toHaveBeenCalledWith(expect.objectContaining({ kind: "training", datasetId: "d1" }));
  });
});
