import { parsePromptParams, promptParamUpdates, type PromptState } from "./promptParams";

const parse = (q: string) => parsePromptParams(new URLSearchParams(q));

describe("prompt analyser URL state", () => {
  it("defaults to the strongest-feature shading, ranked by sum", () => {
    expect(parse("text=Hello")).toEqual({ text: "Hello", shade: "max", features: [], threshold: null, token: null, rank: "sum" });
  });

  it("round-trips every choice through the URL", () => {
    const states: PromptState[] = [
      { text: "Once upon a time & more", shade: "features", features: [12, 40], threshold: null, token: 3, rank: "max" },
      { text: "x", shade: "count", features: [], threshold: 1.5, token: null, rank: "count" },
      { text: "y", shade: "count", features: [], threshold: null, token: 0, rank: "sum" },
      { text: "", shade: "max", features: [], threshold: null, token: null, rank: "sum" },
    ];
    for (const s of states) {
      const p = new URLSearchParams();
      for (const [k, v] of Object.entries(promptParamUpdates(s))) if (v !== null) p.set(k, v);
      expect(parsePromptParams(new URLSearchParams(p.toString()))).toEqual(s);
    }
  });

  it("leaves defaults out of the URL and ignores garbage", () => {
    expect(promptParamUpdates(parse("text=a"))).toEqual({ text: "a", shade: null, f: null, x: null, tok: null, rank: null });
    expect(parse("f=3,x,3,7")).toMatchObject({ shade: "features", features: [3, 7] });
    expect(parse("shade=features")).toMatchObject({ shade: "max" }); // no feature chosen
    expect(parse("shade=bogus&x=-1&tok=-2&rank=nope")).toMatchObject({ shade: "max", threshold: null, token: null, rank: "sum" });
  });
});
