import { mergeJobs, type JobSummary } from "./jobFields";
import { topLevelJobs } from "./useJobs";
import { steadyProgress } from "./useSteadyProgress";
import { mergeCurves } from "./useTrainingCurves";

const job = (id: string, over: Partial<JobSummary> = {}): JobSummary => ({
  id,
  kind: "PIPELINE",
  status: "QUEUED",
  name: null,
  progress: 0,
  stage: "queued",
  message: "",
  attempts: 1,
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

  it("lists pipelines and single jobs once each, newest first, without pipeline stages", () => {
    const pipelines = [job("3", { kind: "PIPELINE" }), job("1", { kind: "PIPELINE" })];
    const all = [job("4", { kind: "TRAIN", parentId: "3" }), job("2", { kind: "ANALYSE" }), job("3", { kind: "PIPELINE" })];
    expect(topLevelJobs([pipelines, all], 10).map((j) => j.id)).toEqual(["3", "2", "1"]);
    expect(topLevelJobs([pipelines, all], 2).map((j) => j.id)).toEqual(["3", "2"]);
  });

  it("keeps a job attempt's progress from moving backwards, but restarts it for a retry", () => {
    let p = steadyProgress(null, "j:1", 0.75);
    p = steadyProgress(p, "j:1", 0.72);
    expect(p.value).toBe(0.75);
    p = steadyProgress(p, "j:1", 0.8);
    expect(p.value).toBe(0.8);
    expect(steadyProgress(p, "j:2", 0.1).value).toBe(0.1);
  });

  it("merges curve points by step, live values winning, in step order", () => {
    const pts = mergeCurves([{ step: 0, loss: 3 }, { step: 25, loss: 2 }], [{ step: 50, loss: 1 }, { step: 25, loss: 1.9 }]);
    expect(pts).toEqual([{ step: 0, loss: 3 }, { step: 25, loss: 1.9 }, { step: 50, loss: 1 }]);
  });
});
