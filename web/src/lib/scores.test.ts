import { fmtScore, labelScoreCaveat, scoreTitle } from "./scores";

const f1 = { name: "F1", value: 0.8, ciLow: 0.612, ciHigh: 0.9, n: 45, unit: "held-out firings", reason: null, help: "Harmonic mean." };

describe("scores a user can read", () => {
  it("shows the value with its 95 % interval, and the sample in the tooltip", () => {
    expect(fmtScore(f1)).toBe("0.80 [0.61–0.90]");
    expect(scoreTitle(f1)).toBe("Harmonic mean. Measured on 45 held-out firings. 95 % confidence interval 0.61–0.90.");
  });

  it("shows no number for a sample too small, and says why", () => {
    const small = { ...f1, value: null, ciLow: null, ciHigh: null, n: 3, reason: "fired 3 times on held-out contexts; 10 needed for a score" };
    expect(fmtScore(small)).toBe("no score");
    expect(scoreTitle(small)).toMatch(/on 3 held-out firings\. No score: fired 3 times/);
  });

  it("says when a row's score is not the shown label's", () => {
    expect(labelScoreCaveat("human")).toMatch(/offline label the human label replaced/);
    expect(labelScoreCaveat("auto")).toBeNull();
  });
});
