import { methodText, offlineF1, OFFLINE_METHOD, type ExplanationView } from "./explanations";

const score = (name: string, value: number | null) => ({ name, value, n: 40, unit: "held-out firings", help: name });
const offline: ExplanationView = { id: "1", text: '"␣cat"', method: OFFLINE_METHOD, author: "analyser", editable: false, scores: [score("F1", 0.8), score("recall", 0.9)] };
const human: ExplanationView = { id: "2", text: "cats", method: "human", author: "user", editable: true, scores: [] };

describe("explanations", () => {
  it("finds the offline labeller's F1, whatever the order", () => {
    expect(offlineF1([human, offline])?.value).toBe(0.8);
    expect(offlineF1([human])).toBeNull();
  });

  it("names the method with its model", () => {
    expect(methodText(offline)).toBe(OFFLINE_METHOD);
    expect(methodText({ method: "llm explainer", model: "SmolLM2-135M" })).toBe("llm explainer · SmolLM2-135M");
  });
});
