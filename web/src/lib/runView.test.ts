import { configArchitecture, configRows, curvePlan, trainConfigOf, trainingWindowText } from "./runView";

const topkConfig = {
  activations: "artifacts/activations/default",
  output: "/srv/saelab/artifacts/runs/default",
  architecture: "topk",
  d_sae: 256,
  k: 32,
  l1_coefficient: 5,
  l1_warmup_steps: 0,
  aux_k_coefficient: 0.03125,
  log_every: 10,
  batch_size: 256,
};

describe("architecture-aware config", () => {
  it("leaves out what TopK ignores and shortens server paths", () => {
    const rows = Object.fromEntries(configRows(topkConfig));
    expect(rows).not.toHaveProperty("l1_coefficient");
    expect(rows).not.toHaveProperty("l1_warmup_steps");
    expect(rows.k).toBe(32);
    expect(rows.aux_k_coefficient).toBe(0.03125);
    expect(rows.output).toBe("…/default");
    expect(rows.activations).toBe("…/default");
    expect(JSON.stringify(rows)).not.toContain("/srv/");
  });

  it("leaves out what ReLU ignores, and handles a pipeline's train section", () => {
    const relu = Object.fromEntries(configRows({ ...topkConfig, architecture: "relu", k: null }));
    expect(relu).toHaveProperty("l1_coefficient", 5);
    expect(relu).not.toHaveProperty("k");
    const pipeline = { collect: { model: "/venv/models/tiny", n_tokens: 4096 }, train: { architecture: "topk", k: 8, l1_coefficient: 5 } };
    expect(configArchitecture(pipeline)).toBe("topk");
    const rows = Object.fromEntries(configRows(pipeline));
    expect(rows).not.toHaveProperty("train.l1_coefficient");
    expect(rows["train.k"]).toBe(8);
    expect(rows["collect.model"]).toBe("…/tiny");
  });

  it("knows every architecture's own keys", () => {
    const jump = Object.fromEntries(configRows({ ...topkConfig, architecture: "jumprelu", l0_coefficient: 1, jumprelu_bandwidth: 0.05 }));
    expect(jump).not.toHaveProperty("l1_coefficient");
    expect(jump).not.toHaveProperty("k");
    expect(jump).toHaveProperty("l0_coefficient", 1);
    const gated = Object.fromEntries(configRows({ ...topkConfig, architecture: "gated", l0_coefficient: 1 }));
    expect(gated).toHaveProperty("l1_coefficient", 5);
    expect(gated).not.toHaveProperty("l0_coefficient");
    const btk = Object.fromEntries(configRows({ ...topkConfig, architecture: "batchtopk", topk_threshold_lr: 0.01, dead_feature_threshold: 1e7 }));
    expect(btk).toHaveProperty("topk_threshold_lr", 0.01);
    expect(btk).toHaveProperty("dead_feature_threshold", 1e7);
  });

  it("shows every key of an architecture it does not know", () => {
    expect(Object.keys(Object.fromEntries(configRows({ ...topkConfig, architecture: "future_arch" })))).toContain("l1_coefficient");
  });
});

describe("training curve plan", () => {
  const pts = (n: number, f: (i: number) => Record<string, number>) => Array.from({ length: n }, (_, i) => ({ step: i * 10, ...f(i) }));

  it("TopK: one chart for loss = MSE, no flat L0 chart, no L1 chart", () => {
    const plan = curvePlan(pts(5, (i) => ({ loss: 40 - i, mse: 40 - i, l0: 32, l1: 5 + i, explainedVariance: 0.5, deadFraction: 0 })), "topk", 32);
    expect(plan.charts.map((c) => c.metric)).toEqual(["mse", "explainedVariance", "deadFraction"]);
    expect(plan.notes.join(" ")).toMatch(/L0 is 32 at every logged step \(TopK keeps k = 32/);
  });

  it("ReLU: loss and MSE apart, L1 and a varying L0 charted", () => {
    const plan = curvePlan(pts(5, (i) => ({ loss: 50 - i, mse: 40 - i, l0: 80 - i, l1: 2, explainedVariance: 0.5, deadFraction: 0 })), "relu");
    expect(plan.charts.map((c) => c.metric)).toEqual(["loss", "mse", "l1", "l0", "explainedVariance", "deadFraction"]);
    expect(plan.notes).toEqual([]);
  });

  it("draws everything while too few points are in to judge", () => {
    const plan = curvePlan(pts(2, () => ({ loss: 1, mse: 1, l0: 32 })), "topk", 32);
    expect(plan.charts.map((c) => c.metric)).toContain("l0");
    expect(plan.charts.map((c) => c.metric)).toContain("loss");
  });

  it("says what one training point averages", () => {
    expect(trainingWindowText(topkConfig)).toBe(
      "Training split: each point averages the last 10 steps × 256 tokens (2,560 tokens); inputs normalised to mean norm √d_in; MSE summed over d_in.",
    );
    expect(trainingWindowText({})).toBeNull();
    expect(trainingWindowText(trainConfigOf({ collect: {}, train: topkConfig }))).toMatch(/^Training split/);
  });
});
