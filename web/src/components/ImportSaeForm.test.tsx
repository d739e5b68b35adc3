import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { ImportSaeForm } from "./ImportSaeForm";

describe("<ImportSaeForm>", () => {
  it("does not submit without a source and says what to give", async () => {
    const onSubmit = vi.fn();
    render(<ImportSaeForm submitting={false} onSubmit={onSubmit} />);
    await userEvent.click(screen.getByRole("button", { name: "Import and analyse" }));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByLabelText("SAE source")).toHaveAttribute("aria-invalid", "true");
  });

  it("sends the source and collect keys, and shows the server's refusal next to the source", async () => {
    const onSubmit = vi.fn().mockResolvedValue({ fields: { source: "'/etc' is outside the allowed data roots (/data)" }, general: [] });
    render(<ImportSaeForm submitting={false} onSubmit={onSubmit} />);
    await userEvent.type(screen.getByLabelText("SAE source"), "/etc");
    await userEvent.clear(screen.getByLabelText("Tokens to collect"));
    await userEvent.type(screen.getByLabelText("Tokens to collect"), "2048");
    await userEvent.click(screen.getByRole("button", { name: "Import and analyse" }));
    expect(onSubmit).toHaveBeenCalledWith({ name: null, source: "/etc", collect: { corpus: "roneneldan/TinyStories", n_tokens: 2048 } });
    expect(await screen.findByText("'/etc' is outside the allowed data roots (/data)")).toBeInTheDocument();
    expect(screen.getByLabelText("SAE source")).toHaveAttribute("aria-invalid", "true");
  });
});
