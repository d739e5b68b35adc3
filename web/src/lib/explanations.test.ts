import { explanationsOf, OFFLINE_METHOD } from "./explanations";

describe("explanations from today's label fields", () => {
  it("names the offline labeller as the method of an auto label, with its held-out score", () => {
    const [e] = explanationsOf({ label: "' cat', ' dog'", labelSource: "auto", labelDescription: "fires on animals", labelScore: 0.8, nActive: 400 });
    expect(e).toMatchObject({ text: "' cat', ' dog'", method: OFFLINE_METHOD, model: null, detail: "fires on animals" });
    expect(e.scores).toEqual([expect.objectContaining({ name: "label F1 (held-out)", value: 0.8, caveat: null })]);
  });

  it("flags a score from a handful of firings, and one that belonged to a replaced label", () => {
    expect(explanationsOf({ label: "ash", labelSource: "auto", labelScore: 1, nActive: 3 })[0].scores[0].caveat).toMatch(/too few/);
    const human = explanationsOf({ label: "leash", labelSource: "human", labelScore: 0.5, nActive: 500 })[0];
    expect(human.method).toBe("human");
    expect(human.scores[0].name).toMatch(/replaced auto label/);
  });

  it("has nothing to list for an unlabelled feature", () => {
    expect(explanationsOf({ label: null })).toEqual([]);
  });
});
