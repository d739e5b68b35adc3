import { ARCHITECTURES, buildSubmission, DEFAULT_JOB_FORM, HOOK_KINDS, parseWidths, serverFieldErrors, trainConfig, validateJobForm, type JobFormValues } from "./jobForm";

const form = (over: Partial<JobFormValues>): JobFormValues => ({ ...DEFAULT_JOB_FORM, ...over });

describe("job form validation", () => {
  it("accepts the defaults", () => {
    expect(validateJobForm(DEFAULT_JOB_FORM)).toEqual({});
  });

  it("names each bad field", () => {
    const e = validateJobForm(form({ model: " ", layer: "-1", nTokens: "1.5", contextLength: "1", dSae: "0", lr: "0", nSteps: "x", batchSize: "", seed: "-3" }));
    expect(Object.keys(e).sort()).toEqual(["batchSize", "contextLength", "dSae", "layer", "lr", "model", "nSteps", "nTokens", "seed"]);
  });

  it("requires k for TopK (at most d_sae) and an L1 coefficient for ReLU", () => {
    expect(validateJobForm(form({ architecture: "topk", k: "" })).k).toMatch(/k must/);
    expect(validateJobForm(form({ architecture: "topk", k: "100", dSae: "64" })).k).toMatch(/cannot exceed d_sae \(64\)/);
    expect(validateJobForm(form({ architecture: "relu", l1Coefficient: "-1" })).l1Coefficient).toBeDefined();
    expect(validateJobForm(form({ architecture: "topk", l1Coefficient: "-1", k: "8" }))).toEqual({});
  });

  it("checks each architecture's own knobs and only those", () => {
    expect(validateJobForm(form({ architecture: "batchtopk", k: "0" })).k).toMatch(/k must/);
    expect(validateJobForm(form({ architecture: "matryoshka_batchtopk", k: "" })).k).toMatch(/k must/);
    expect(validateJobForm(form({ architecture: "gated", l1Coefficient: "x" })).l1Coefficient).toBeDefined();
    const j = validateJobForm(form({ architecture: "jumprelu", l0Coefficient: "-1", jumpreluBandwidth: "0", k: "", l1Coefficient: "x" }));
    expect(Object.keys(j).sort()).toEqual(["jumpreluBandwidth", "l0Coefficient"]);
    expect(validateJobForm(form({ architecture: "matryoshka_batchtopk", matryoshkaWidths: "64, 32" })).matryoshkaWidths).toMatch(/increasing/);
    expect(validateJobForm(form({ architecture: "matryoshka_batchtopk", matryoshkaWidths: "64, 9000" })).matryoshkaWidths).toMatch(/d_sae \(6144\)/);
    expect(validateJobForm(form({ architecture: "matryoshka_batchtopk", matryoshkaWidths: "" }))).toEqual({});
  });

  it("parses prefix widths", () => {
    expect(parseWidths("64, 256,1024")).toEqual([64, 256, 1024]);
    expect(parseWidths("64, 64")).toBeNull();
    expect(parseWidths("1.5")).toBeNull();
  });

  it("needs a dataset for a training job but not the collection fields", () => {
    const e = validateJobForm(form({ kind: "training", model: "", datasetId: "" }));
    expect(Object.keys(e)).toEqual(["datasetId"]);
  });
});

describe("job submission payload", () => {
  it("builds snake_case configs with the hook string and only the architecture's sparsity knob", () => {
    const s = buildSubmission(form({ layer: "3", hookKind: "resid_post", architecture: "topk", k: "16", dSae: "256" }));
    expect(s).toEqual({
      kind: "pipeline",
      input: {
        name: null,
        collect: { model: "gpt2", hook: "blocks.3.hook_resid_post", corpus: "roneneldan/TinyStories", n_tokens: 50000, context_length: 128 },
        train: { architecture: "topk", d_sae: 256, k: 16, lr: 0.0004, n_steps: 500, batch_size: 1024, seed: 0 },
      },
    });
  });

  it("sends every architecture's name with exactly its keys", () => {
    expect(ARCHITECTURES.map((a) => a.value)).toEqual(["relu", "topk", "batchtopk", "jumprelu", "matryoshka_batchtopk", "gated"]);
    const base = { d_sae: 6144, lr: 0.0004, n_steps: 500, batch_size: 1024, seed: 0 };
    expect(trainConfig(form({ architecture: "batchtopk", k: "16" }))).toEqual({ architecture: "batchtopk", k: 16, ...base });
    expect(trainConfig(form({ architecture: "jumprelu", l0Coefficient: "2", jumpreluBandwidth: "0.1" }))).toEqual({ architecture: "jumprelu", l0_coefficient: 2, jumprelu_bandwidth: 0.1, ...base });
    expect(trainConfig(form({ architecture: "matryoshka_batchtopk", matryoshkaWidths: "64, 256" }))).toEqual({ architecture: "matryoshka_batchtopk", k: 32, matryoshka_widths: [64, 256], ...base });
    expect(trainConfig(form({ architecture: "matryoshka_batchtopk" }))).toEqual({ architecture: "matryoshka_batchtopk", k: 32, ...base });
    expect(trainConfig(form({ architecture: "gated", l1Coefficient: "3" }))).toEqual({ architecture: "gated", l1_coefficient: 3, ...base });
  });

  it("names any hook kind of the layer", () => {
    for (const kind of HOOK_KINDS) {
      const s = buildSubmission(form({ layer: "2", hookKind: kind }));
      expect(s).toMatchObject({ input: { collect: { hook: `blocks.2.hook_${kind}` } } });
    }
    expect(HOOK_KINDS).toEqual(["resid_pre", "attn_out", "mlp_in", "mlp_out", "resid_post"]);
  });

  it("sends a training job against its dataset", () => {
    const s = buildSubmission(form({ kind: "training", datasetId: "ds1", name: " mine " }));
    expect(s).toMatchObject({ kind: "training", datasetId: "ds1", name: "mine", config: { architecture: "relu", l1_coefficient: 5 } });
  });
});

describe("server validation messages", () => {
  it("puts each config key's message on its form field", () => {
    const v = serverFieldErrors("train: k: required when architecture is 'topk'\ncollect: n_tokens: Input should be greater than or equal to 1");
    expect(v.fields).toEqual({ k: "required when architecture is 'topk'", nTokens: "Input should be greater than or equal to 1" });
    expect(v.general).toEqual([]);
  });

  it("maps the new architectures' keys to their fields", () => {
    const v = serverFieldErrors("train: l0_coefficient: only used when architecture is jumprelu\ntrain: matryoshka_widths: [8, 4] must be positive and strictly increasing\ntrain: jumprelu_bandwidth: Input should be greater than 0");
    expect(Object.keys(v.fields).sort()).toEqual(["jumpreluBandwidth", "l0Coefficient", "matryoshkaWidths"]);
  });

  it("understands dotted paths and the extensions.field hint", () => {
    expect(serverFieldErrors("train.d_sae: must be positive").fields).toEqual({ dSae: "must be positive" });
    expect(serverFieldErrors("value too large", "train.lr").fields).toEqual({ lr: "value too large" });
  });

  it("keeps lines that name no form field as general errors", () => {
    const v = serverFieldErrors("train: resample_frequency: unknown key\nqueue is full");
    expect(v.fields).toEqual({});
    expect(v.general).toEqual(["train: resample_frequency: unknown key", "queue is full"]);
  });
});
