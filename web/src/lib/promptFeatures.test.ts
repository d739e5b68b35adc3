import { defaultCountThreshold, listsComplete, rankPromptFeatures, shadeByCount, shadeByFeatures, shadeByMax, type PromptTokenData } from "./promptFeatures";

const tok = (position: number, features: [number, number][], l0 = features.length): PromptTokenData => ({
  position,
  token: `t${position}`,
  l0,
  maxActivation: Math.max(0, ...features.map(([, a]) => a)),
  features: features.map(([index, activation]) => ({ index, label: `f${index}`, activation })),
});

const prompt = [
  tok(0, [[1, 3], [2, 1]]),
  tok(1, [[2, 2.5], [3, 0.5]]),
  tok(2, [[1, 0.2], [2, 0.1], [4, 4]]),
];

describe("ranking features over a prompt", () => {
  it("sums, maxes and counts each feature over the tokens", () => {
    const r = rankPromptFeatures(prompt, "sum");
    expect(r.map((f) => f.index)).toEqual([4, 2, 1, 3]);
    expect(r.find((f) => f.index === 2)).toMatchObject({ sum: 3.6, max: 2.5, count: 3, maxPosition: 1, label: "f2" });
    expect(r.find((f) => f.index === 1)).toMatchObject({ count: 2, max: 3, maxPosition: 0 });
    expect(r.find((f) => f.index === 1)!.sum).toBeCloseTo(3.2);
  });

  it("orders by the chosen measure, ties broken by the others then the index", () => {
    expect(rankPromptFeatures(prompt, "max").map((f) => f.index)).toEqual([4, 1, 2, 3]);
    expect(rankPromptFeatures(prompt, "count").map((f) => f.index)).toEqual([2, 1, 4, 3]);
    expect(rankPromptFeatures([], "sum")).toEqual([]);
  });
});

describe("shading modes", () => {
  it("max: each token's strongest activation", () => {
    expect(shadeByMax(prompt).values).toEqual([3, 2.5, 4]);
  });

  it("features: the largest activation among the chosen ones, 0 where none fires", () => {
    expect(shadeByFeatures(prompt, [1]).values).toEqual([3, 0, 0.2]);
    expect(shadeByFeatures(prompt, [1, 3]).values).toEqual([3, 0.5, 0.2]);
    expect(shadeByFeatures(prompt, [1, 3]).exact).toBe(true);
    expect(shadeByFeatures(prompt, [1, 3]).unit).toBe("max activation of #1, #3");
  });

  it("count: features at or above the threshold, so TopK prompts (same L0 everywhere) still show contrast", () => {
    const topk = [tok(0, [[1, 3], [2, 2], [3, 0.1]]), tok(1, [[1, 0.2], [2, 0.1], [3, 0.1]]), tok(2, [[1, 1], [2, 1], [3, 1]])];
    expect(shadeByMax(topk).values).toEqual([3, 0.2, 1]);
    expect(shadeByCount(topk, 1).values).toEqual([2, 0, 3]);
    expect(shadeByCount(topk, 1).exact).toBe(true);
  });

  it("says when the server's cap makes a value a lower bound", () => {
    const capped = [tok(0, [[1, 3], [2, 2]], 5)]; // 5 active, 2 listed
    expect(listsComplete(capped)).toBe(false);
    expect(listsComplete(prompt)).toBe(true);
    expect(shadeByCount(capped, 1).exact).toBe(false); // all listed are >= 1: unlisted ones might be too
    expect(shadeByCount(capped, 2.5).exact).toBe(true); // a listed one is below: the unlisted ones are lower still
    expect(shadeByFeatures(capped, [9]).exact).toBe(false);
    expect(shadeByFeatures(capped, [1]).exact).toBe(true);
  });

  it("picks a default count threshold from the prompt (75th percentile, two digits)", () => {
    expect(defaultCountThreshold(prompt)).toBe(3);
    expect(defaultCountThreshold([])).toBe(0);
  });
});
