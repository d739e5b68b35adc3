import { flattenConfig } from "./config";

describe("flattenConfig", () => {
  it("turns a pipeline's sections into dotted keys and keeps lists whole", () => {
    expect(flattenConfig({ name: "x", train: { d_sae: 64, adam_betas: [0.9, 0.999] }, analyse: null })).toEqual([
      ["name", "x"],
      ["train.d_sae", 64],
      ["train.adam_betas", [0.9, 0.999]],
      ["analyse", null],
    ]);
    expect(flattenConfig(null)).toEqual([]);
  });
});
