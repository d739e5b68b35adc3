import { searchEntries, snippetAround } from "./search";
import type { StaticSearchEntry } from "./types";

const entries: StaticSearchEntry[] = [
  { index: 1, label: "story openings", grade: "high", density: 0.01, tokens: [" Once"], examples: ["Once upon a time there was a cat"] },
  { index: 2, label: "animals", grade: "high", density: 0.02, tokens: [" cat", " dog"], examples: ["The cat sat"] },
  { index: 3, label: "cat", grade: "low", density: 0.001, tokens: [" cat"], examples: [] },
  { index: 4, label: "punctuation", grade: "low", density: 0.2, tokens: ["."], examples: ["It was a sunny day."] },
];

describe("static search", () => {
  it("ranks label matches above token matches above example matches", () => {
    const hits = searchEntries(entries, "cat");
    expect(hits.map((h) => h.index)).toEqual([3, 2, 1]);
    expect(hits.map((h) => h.field)).toEqual(["LABEL", "TOKEN", "EXAMPLE"]);
  });

  it("requires every term and gives a snippet around the match", () => {
    const hits = searchEntries(entries, "sunny day");
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ index: 4, field: "EXAMPLE" });
    expect(hits[0].snippet).toContain("sunny");
    expect(searchEntries(entries, "cat zebra")).toEqual([]);
    expect(searchEntries(entries, "   ")).toEqual([]);
  });

  it("cuts long texts around the term with ellipses", () => {
    const text = `${"a".repeat(100)} needle ${"b".repeat(100)}`;
    const s = snippetAround(text, "needle", 10);
    expect(s.startsWith("…")).toBe(true);
    expect(s.endsWith("…")).toBe(true);
    expect(s).toContain("needle");
    expect(s.length).toBeLessThan(40);
  });
});
