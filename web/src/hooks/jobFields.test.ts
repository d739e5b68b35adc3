import { describe, expect, it } from "vitest";
import { laterState, mergeJobs, type JobSummary } from "./jobFields";

const job = (over: Partial<JobSummary>): JobSummary => ({
  id: "j1",
  kind: "EXPLAIN",
  status: "RUNNING",
  name: null,
  progress: 0.5,
  stage: "explain",
  message: "feature 3",
  attempts: 1,
  error: null,
  createdAt: "2026-12-06T09:00:00Z",
  startedAt: "2026-12-06T09:00:01Z",
  finishedAt: null,
  parentId: "p1",
  runId: "r1",
  datasetId: "d1",
  ...over,
});

describe("laterState", () => {
  const done = job({ status: "SUCCEEDED", progress: 1, message: "explained 1 features" });
  const running = job({});

  it("keeps a finished state over a running one of the same attempt, in either order", () => {
    expect(laterState(done, running)).toBe(done);
    expect(laterState(running, done)).toBe(done);
  });

  it("takes a later attempt even over a finished state, and the newer arrival otherwise", () => {
    const retried = job({ attempts: 2, progress: 0 });
    expect(laterState(done, retried)).toBe(retried);
    expect(laterState(retried, done)).toBe(retried);
    const newer = job({ progress: 0.7 });
    expect(laterState(running, newer)).toBe(newer);
    expect(laterState(undefined, running)).toBe(running);
  });

  it("does not let a stale live update hide a refetched finished job", () => {
    const merged = mergeJobs([done], new Map([[running.id, running]]));
    expect(merged).toEqual([done]);
  });
});
