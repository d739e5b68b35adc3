import { scaleMax, shadeColor, shadeFraction, shadeTextColor } from "./shading";

describe("heatmap shading scale", () => {
  it("is zero for zero, negative and non-finite activations", () => {
    expect(shadeFraction(0, 5)).toBe(0);
    expect(shadeFraction(-1, 5)).toBe(0);
    expect(shadeFraction(Number.NaN, 5)).toBe(0);
    expect(shadeColor(0, 5)).toBe("transparent");
  });

  it("never divides by a zero or missing maximum", () => {
    expect(shadeFraction(3, 0)).toBe(0);
    expect(shadeColor(3, 0)).toBe("transparent");
  });

  it("grows monotonically with the activation and saturates at the maximum", () => {
    const alphas = [0.5, 1, 2, 4, 8].map((v) => Number(/, ([\d.]+)\)$/.exec(shadeColor(v, 4))![1]));
    for (let i = 1; i < alphas.length; i++) expect(alphas[i]).toBeGreaterThanOrEqual(alphas[i - 1]);
    expect(shadeFraction(4, 4)).toBe(1);
    expect(shadeFraction(8, 4)).toBe(1);
    expect(alphas[3]).toBe(alphas[4]);
  });

  it("keeps a weak activation visible (alpha floor) and switches text colour on strong ones", () => {
    const weak = Number(/, ([\d.]+)\)$/.exec(shadeColor(0.01, 10))![1]);
    expect(weak).toBeGreaterThan(0.1);
    expect(shadeTextColor(0, 10)).toBeUndefined();
    expect(shadeTextColor(0.1, 10)).toBe("var(--heat-text-weak)");
    expect(shadeTextColor(9, 10)).toBe("var(--heat-text-strong)");
  });

  it("takes the row maximum over finite values only", () => {
    expect(scaleMax([0, 2.5, Number.NaN, 1, Number.POSITIVE_INFINITY])).toBe(2.5);
    expect(scaleMax([-1, 0])).toBe(0);
    expect(scaleMax([])).toBe(0);
  });
});
