import { describe, expect, it } from "vitest";
import { parseCompareParams, seriesByArchitecture, sparsityKnob, type ComparePointView } from "./compare";

const p = (over: Partial<ComparePointView>): ComparePointView => ({ runId: "r", name: "n", architecture: "relu", evaluated: true, onEvFront: false, onCeFront: false, ...over });

describe("compare", () => {
  it("gives one series per architecture with the measured points, sorted by L0", () => {
    const series = seriesByArchitecture(
      [
        p({ runId: "a", architecture: "topk", l0: 20, explainedVariance: 0.8, onEvFront: true }),
        p({ runId: "b", architecture: "relu", l0: 9, explainedVariance: 0.6, ceLossRecovered: 0.9, onCeFront: true }),
        p({ runId: "c", architecture: "topk", l0: 5, explainedVariance: 0.7 }),
        p({ runId: "d", architecture: "relu", evaluated: false }),
      ],
      "explainedVariance",
    );
    expect(series.map((s) => s.architecture)).toEqual(["topk", "relu"]);
    expect(series[0].points.map((q) => [q.runId, q.x, q.y, q.onFront])).toEqual([["c", 5, 0.7, false], ["a", 20, 0.8, true]]);
    expect(series[1].points.map((q) => q.runId)).toEqual(["b"]);
    const ce = seriesByArchitecture([p({ runId: "b", l0: 9, explainedVariance: 0.6, ceLossRecovered: 0.9, onCeFront: true })], "ceLossRecovered");
    expect(ce[0].points[0]).toMatchObject({ y: 0.9, onFront: true });
  });

  it("names the sparsity knob and reads the URL", () => {
    expect(sparsityKnob(p({ architecture: "topk", k: 8 }))).toBe("k 8");
    expect(sparsityKnob(p({ architecture: "jumprelu", sparsityCoefficient: 0.3 }))).toBe("L0 coef 0.3");
    expect(sparsityKnob(p({ sparsityCoefficient: 2 }))).toBe("L1 coef 2");
    expect(parseCompareParams(new URLSearchParams("dataset=d&runs=a,,b"))).toEqual({ datasetId: "d", runIds: ["a", "b"] });
    expect(parseCompareParams(new URLSearchParams(""))).toEqual({ datasetId: null, runIds: null });
  });
});
