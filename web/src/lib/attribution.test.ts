import { describe, expect, it } from "vitest";
import { topAttributions } from "./attribution";

describe("topAttributions", () => {
  it("merges every position's positive and negative features by |attribution|, largest first", () => {
    const rows = topAttributions(
      [
        { position: 0, positive: [{ index: 3, activation: 1, attribution: 0.5 }], negative: [{ index: 4, activation: 2, attribution: -2 }] },
        { position: 1, positive: [{ index: 3, activation: 1, attribution: 1 }], negative: [] },
      ],
      2,
    );
    expect(rows.map((r) => [r.position, r.index, r.attribution])).toEqual([
      [0, 4, -2],
      [1, 3, 1],
    ]);
  });
});
