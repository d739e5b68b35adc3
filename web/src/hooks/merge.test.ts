import { mergeJobs, type JobSummary } from "./jobFields";
import { mergeCurves } from "./useTrainingCurves";

const job = (id: string, over: Partial<JobSummary> = {}): JobSummary => ({
  id,
  kind: "PIPELINE",
  status: "QUEUED",
  name: null,
  progress: 0,
  stage: "queued",
  message: "",
  error: null,
  createdAt: `2025-01-0${id}T00:00:00Z`,
  startedAt: null,
  finishedAt: null,
  parentId: null,
  runId: null,
  datasetId: null,
  ...over,
});

describe("live merges", () => {
  it("applies job updates in place and puts jobs first seen live on top", () => {
    const fetched = [job("2"), job("1")];
    const live = new Map([
      ["1", job("1", { status: "RUNNING", progress: 0.5 })],
      ["3", job("3")],
    ]);
    const merged = mergeJobs(fetched, live);
    expect(merged.map((j) => j.id)).toEqual(["3", "2", "1"]);
    expect(merged[2]).toMatchObject({ status: "RUNNING", progress: 0.5 });
  });

  it("merges curve points by step, live values winning, in step order", () => {
    const pts = mergeCurves([{ step: 0, loss: 3 }, { step: 25, loss: 2 }], [{ step: 50, loss: 1 }, { step: 25, loss: 1.9 }]);
    expect(pts).toEqual([{ step: 0, loss: 3 }, { step: 25, loss: 1.9 }, { step: 50, loss: 1 }]);
  });
});
