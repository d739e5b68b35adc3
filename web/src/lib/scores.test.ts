import { labelScoreCaveat, SMALL_SAMPLE_FIRINGS } from "./scores";

describe("label score caveats", () => {
  it("flags scores resting on a handful of firings", () => {
    expect(labelScoreCaveat(3)).toMatch(/only 3 analysed tokens .*too few/);
    expect(labelScoreCaveat(SMALL_SAMPLE_FIRINGS)).toBeNull();
    expect(labelScoreCaveat(null)).toBeNull();
  });

  it("says when the score is not the shown label's", () => {
    expect(labelScoreCaveat(1000, "human")).toMatch(/auto label the human label replaced/);
  });
});
