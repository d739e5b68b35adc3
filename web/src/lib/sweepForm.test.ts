import { describe, expect, it } from "vitest";
import { buildSweepInput, DEFAULT_SWEEP_FORM, sweepFieldOf, sweepServerErrors, validateSweepForm, type SweepFormValues } from "./sweepForm";

const form = (over: Partial<SweepFormValues> = {}): SweepFormValues => ({ ...DEFAULT_SWEEP_FORM, datasetId: "d1", ...over });

describe("sweep form", () => {
  it("builds shared keys once and each SAE's own keys", () => {
    const input = buildSweepInput(
      form({
        name: "  s ",
        members: [
          { architecture: "relu", dSae: "64", k: "9", l1Coefficient: "2.5", l0Coefficient: "1" },
          { architecture: "batchtopk", dSae: "128", k: "8", l1Coefficient: "5", l0Coefficient: "1" },
          { architecture: "jumprelu", dSae: "64", k: "8", l1Coefficient: "5", l0Coefficient: "0.3" },
        ],
      }),
    );
    expect(input.name).toBe("s");
    expect(input.common).toEqual({ n_steps: 500, batch_size: 1024, lr: 0.0004, seed: 0 });
    expect(input.analyse).toEqual({});
    expect(buildSweepInput(form({ analyse: false })).analyse).toBeUndefined();
    expect(input.saes).toEqual([
      { architecture: "relu", d_sae: 64, l1_coefficient: 2.5 },
      { architecture: "batchtopk", d_sae: 128, k: 8 },
      { architecture: "jumprelu", d_sae: 64, l0_coefficient: 0.3 },
    ]);
  });

  it("checks each row and the shared fields", () => {
    const e = validateSweepForm(form({ datasetId: "", nSteps: "0", members: [{ architecture: "topk", dSae: "8", k: "9", l1Coefficient: "", l0Coefficient: "" }] }));
    expect(e.datasetId).toMatch(/dataset/);
    expect(e.nSteps).toMatch(/Steps/);
    expect(e["members.0.k"]).toBe("k (9) cannot exceed d_sae (8).");
    expect(validateSweepForm(form({ members: [] })).members).toMatch(/at least one/);
    expect(validateSweepForm(form())).toEqual({});
  });

  it("puts the server's errors on the row and field they name", () => {
    expect(sweepFieldOf("sweep.saes.1.k")).toBe("members.1.k");
    expect(sweepFieldOf("saes.0.batch_size")).toBe("batchSize");
    expect(sweepFieldOf("common.n_steps")).toBe("nSteps");
    const out = sweepServerErrors("sweep: saes.1.k: 40 is larger than d_sae (16)\nsomething else", "sweep.saes.1.k");
    expect(out.fields).toEqual({ "members.1.k": "40 is larger than d_sae (16)" });
    expect(out.general).toEqual(["something else"]);
  });
});
