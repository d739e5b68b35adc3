import { ALIVE_MIN_DENSITY, featureFilter, hideParam, isNarrowed, nextSort, parseExplorerParams, sortVariables } from "./explorerParams";

const parse = (q: string) => parseExplorerParams(new URLSearchParams(q));

describe("explorer URL state", () => {
  it("defaults to page 1 sorted by index ascending, dead features left out", () => {
    const s = parse("");
    expect(s).toMatchObject({ page: 1, sort: "index", order: "asc", grades: [], label: "", hide: ["dead"] });
    expect(featureFilter(s)).toEqual({ minDensity: ALIVE_MIN_DENSITY });
    expect(isNarrowed(s)).toBe(false);
    expect(featureFilter(parse("hide=none"))).toBeNull();
    expect(sortVariables(s)).toEqual({ sort: "INDEX", order: "ASC" });
  });

  it("reads page, sort and filters, ignoring garbage", () => {
    const s = parse("page=4&sort=density&order=desc&grade=high,low&dmin=-4&dmax=-1&label=cat&hide=none");
    expect(s).toMatchObject({ page: 4, sort: "density", order: "desc", grades: ["high", "low"], minLog10: -4, maxLog10: -1, label: "cat" });
    expect(sortVariables(s)).toEqual({ sort: "DENSITY", order: "DESC" });
    const f = featureFilter(s)!;
    expect(f.grades).toEqual(["high", "low"]);
    expect(f.minDensity).toBeCloseTo(1e-4);
    expect(f.maxDensity).toBeCloseTo(0.1);
    expect(f.labelContains).toBe("cat");
    expect(parse("page=-2&sort=bogus&dmin=x")).toMatchObject({ page: 1, sort: "index", minLog10: null });
  });

  it("flips the order on the same column and sorts measures descending first", () => {
    const s = parse("sort=density&order=desc");
    expect(nextSort(s, "density")).toEqual({ sort: "density", order: "asc" });
    expect(nextSort(s, "maxActivation")).toEqual({ sort: "maxActivation", order: "desc" });
    expect(nextSort(s, "index")).toEqual({ sort: "index", order: "asc" });
  });
});

describe("hide dead / hide dense", () => {
  it("combines with the density range: the tighter bound wins", () => {
    const both = parse("hide=dead,dense");
    expect(featureFilter(both, 0.05)).toEqual({ minDensity: ALIVE_MIN_DENSITY, maxDensity: 0.05 });
    expect(featureFilter(parse("hide=dense&dmax=-3"), 0.1)!.maxDensity).toBeCloseTo(1e-3);
    expect(featureFilter(parse("hide=dense&dmax=0"), 0.1)!.maxDensity).toBe(0.1);
    expect(featureFilter(parse("hide=dead&dmin=-3"))!.minDensity).toBeCloseTo(1e-3);
    // hiding dense alone shows dead features again
    expect(featureFilter(parse("hide=dense"), 0.1)).toEqual({ maxDensity: 0.1 });
  });

  it("writes the shortest URL value for a choice and reads it back", () => {
    expect(hideParam(["dead"])).toBeNull();
    expect(hideParam([])).toBe("none");
    expect(hideParam(["dense", "dead"])).toBe("dead,dense");
    expect(hideParam(["dense"])).toBe("dense");
    for (const v of ["none", "dead,dense", "dense"]) expect(hideParam(parse(`hide=${v}`).hide)).toBe(v);
    expect(parse("hide=bogus").hide).toEqual([]);
    expect(isNarrowed(parse("hide=none"))).toBe(true);
  });
});
