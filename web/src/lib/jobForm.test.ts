import { buildSubmission, DEFAULT_JOB_FORM, HOOK_KINDS, serverFieldErrors, validateJobForm, type JobFormValues } from "./jobForm";

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
