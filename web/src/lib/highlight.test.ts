import { highlightParts } from "./highlight";

describe("highlightParts", () => {
  it("marks every query term case-insensitively and keeps the rest", () => {
    expect(highlightParts("The Cat sat on the cat", "cat")).toEqual([
      { text: "The ", match: false },
      { text: "Cat", match: true },
      { text: " sat on the ", match: false },
      { text: "cat", match: true },
    ]);
  });

  it("treats regex characters in the query literally", () => {
    expect(highlightParts("a (b) c", "(b)").filter((p) => p.match).map((p) => p.text)).toEqual(["(b)"]);
  });
});
