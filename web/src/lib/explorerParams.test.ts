import { featureFilter, nextSort, parseExplorerParams, sortVariables } from "./explorerParams";

const parse = (q: string) => parseExplorerParams(new URLSearchParams(q));

describe("explorer URL state", () => {
  it("defaults to page 1 sorted by index ascending with no filter", () => {
    const s = parse("");
    expect(s).toMatchObject({ page: 1, sort: "index", order: "asc", grades: [], label: "" });
    expect(featureFilter(s)).toBeNull();
    expect(sortVariables(s)).toEqual({ sort: "INDEX", order: "ASC" });
  });

  it("reads page, sort and filters, ignoring garbage", () => {
    const s = parse("page=4&sort=density&order=desc&grade=high,low&dmin=-4&dmax=-1&label=cat");
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
