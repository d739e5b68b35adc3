import { queryFeatures } from "./featureQuery";
import type { StaticFeatureSummary } from "./types";

const rows: StaticFeatureSummary[] = Array.from({ length: 120 }, (_, i) => ({
  index: i,
  label: i % 3 === 0 ? `cat ${i}` : `dog ${i}`,
  grade: i % 2 ? "high" : "low",
  labelScore: i / 120,
  density: ((i * 37) % 120) / 1000,
  log10Density: null,
  meanActivation: 1,
  maxActivation: (i * 7) % 50,
}));

describe("static features query", () => {
  it("pages like the gateway (1-based, clamped, with totals)", () => {
    const p = queryFeatures(rows, { page: 3, first: 50 });
    expect(p.totalCount).toBe(120);
    expect(p.nodes.map((n) => n.index)).toEqual(Array.from({ length: 20 }, (_, i) => 100 + i));
    expect(p.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    expect(queryFeatures(rows, { page: 99, first: 50 }).page).toBe(3);
  });

  it("sorts by the requested measure and order, ties by index", () => {
    const p = queryFeatures(rows, { sort: "MAX_ACTIVATION", order: "DESC", first: 120 });
    const values = p.nodes.map((n) => n.maxActivation);
    expect(values).toEqual([...values].sort((a, b) => b - a));
    const asc = queryFeatures(rows, { sort: "DENSITY", order: "ASC", first: 5 }).nodes;
    expect(asc[0].density).toBe(0);
  });

  it("filters by grade, density range and label text together", () => {
    const p = queryFeatures(rows, { first: 200, filter: { grades: ["high"], minDensity: 0.05, maxDensity: 0.1, labelContains: "CAT" } });
    expect(p.totalCount).toBeGreaterThan(0);
    for (const n of p.nodes) {
      expect(n.grade).toBe("high");
      expect(n.density).toBeGreaterThanOrEqual(0.05);
      expect(n.density).toBeLessThanOrEqual(0.1);
      expect(n.label).toMatch(/cat/);
    }
    expect(p.totalCount).toBe(rows.filter((r) => r.grade === "high" && r.density >= 0.05 && r.density <= 0.1 && r.label!.includes("cat")).length);
  });
});
