import { featureJson, listCsv, listJson } from "./featureExport";

const rows = [
  { index: 0, label: ".,\\n, :", grade: "High", labelScore: 0.8, density: 0.118, log10Density: -0.928, nActive: 476, dead: false, dense: true, meanActivation: 1.2, maxActivation: 3.4, labelSource: "auto" },
  { index: 1, label: null, grade: null, labelScore: null, density: 0, log10Density: null, nActive: 0, dead: true, dense: false, meanActivation: 0, maxActivation: 0, labelSource: null },
];

describe("feature exports", () => {
  it("writes the list as CSV with the schema's field names, labels with commas quoted", () => {
    const lines = listCsv(rows).split("\r\n");
    expect(lines[0]).toBe("index,label,labelSource,grade,labelScore,density,log10Density,nActive,dead,dense,meanActivation,maxActivation");
    expect(lines[1]).toBe('0,".,\\n, :",auto,High,0.8,0.118,-0.928,476,false,true,1.2,3.4');
    expect(lines[2]).toBe("1,,,,,0,,0,true,false,0,0");
    expect(lines).toHaveLength(4); // trailing CRLF
  });

  it("writes the list and one feature as self-describing JSON", () => {
    const now = new Date("2025-12-06T10:00:00Z");
    const list = JSON.parse(listJson(rows, { runId: "r1", url: "http://x/?run=r1", query: { sort: "DENSITY" } }, now));
    expect(list).toMatchObject({ format: "saelab-feature-list/1", runId: "r1", count: 2, exportedAt: "2025-12-06T10:00:00.000Z", query: { sort: "DENSITY" } });
    expect(list.features[0].label).toBe(".,\\n, :");
    const one = JSON.parse(featureJson({ runId: "r1", index: 7 }, "http://x/runs/r1/features/7", now));
    expect(one).toMatchObject({ format: "saelab-feature/1", runId: "r1", index: 7, feature: { runId: "r1", index: 7 } });
  });
});
