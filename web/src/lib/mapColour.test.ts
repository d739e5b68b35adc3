import { densityColour, densityPosition } from "./mapColour";

describe("map colours", () => {
  it("places densities on a log scale from the floor to 100 %", () => {
    expect(densityPosition(1e-6)).toBe(0);
    expect(densityPosition(1e-3)).toBeCloseTo(0.5);
    expect(densityPosition(1)).toBe(1);
    expect(densityPosition(0)).toBe(0);
  });

  it("tells rare from dense, and dead from both", () => {
    expect(densityColour(1e-5, false)).not.toBe(densityColour(0.2, false));
    expect(densityColour(0, true)).toBe("hsl(0 0% 60%)");
  });
});
