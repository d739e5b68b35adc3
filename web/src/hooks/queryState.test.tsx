import { act, renderHook } from "@testing-library/react";
import type { ReactNode } from "react";
import { CombinedError, Provider, type Client } from "urql";
import { concat, fromValue, never } from "wonka";
import type { JobSummary } from "./jobFields";
import { useFeatureMap } from "./useFeatureMap";
import { useFeatureTrace } from "./useFeatureTrace";
import { useJobs } from "./useJobs";
import { useRun } from "./useRun";
import { useSearch } from "./useSearch";

/**
 * A client answering every query with ``answer`` (a partial answer: root fields null beside their errors); the request
 * policy of each execution is appended to ``policies`` when given.
 */
function answering(answer: { data?: unknown; error?: CombinedError }, policies?: (string | undefined)[]) {
  const client = {
    executeQuery: (_request: unknown, context?: { requestPolicy?: string }) => {
      policies?.push(context?.requestPolicy);
      return concat([fromValue(answer), never]); // a live source: the client's stay open
    },
    executeSubscription: () => never,
  } as unknown as Client;
  return ({ children }: { children: ReactNode }) => <Provider value={client}>{children}</Provider>;
}

/** The error urql makes of one failed root field (code and path as the gateway sends them). */
function fieldError(path: string, code: string) {
  return new CombinedError({ graphQLErrors: [{ message: `${path} failed`, path: [path], extensions: { code } }] });
}

function job(id: string, kind: JobSummary["kind"], createdAt: string): JobSummary {
  return {
    id, kind, status: "SUCCEEDED" as JobSummary["status"], name: id, progress: 1, stage: "", message: "", attempts: 1,
    error: null, createdAt, startedAt: null, finishedAt: null, parentId: null, runId: null, datasetId: null,
  } as JobSummary;
}

describe("query hooks on a partial answer", () => {
  it("a run that failed is an error, not 'not found'; a run answered null without an error is absent", () => {
    const failed = renderHook(() => useRun("r1"), { wrapper: answering({ data: { run: null }, error: fieldError("run", "UNAVAILABLE") }) });
    expect(failed.result.current).toMatchObject({ run: null, notFound: false, fetching: false });
    expect(failed.result.current.error?.graphQLErrors[0].extensions.code).toBe("UNAVAILABLE");
    const absent = renderHook(() => useRun("r1"), { wrapper: answering({ data: { run: null } }) });
    expect(absent.result.current).toMatchObject({ run: null, notFound: true, error: undefined });
  });

  it("a list root field that failed gives an empty list and its error (the page shows the error)", () => {
    const { result } = renderHook(() => useFeatureMap("r1"), {
      wrapper: answering({ data: { featureMap: null }, error: fieldError("featureMap", "NOT_FOUND") }),
    });
    expect(result.current.points).toEqual([]);
    expect(result.current.error?.graphQLErrors[0].path).toEqual(["featureMap"]);
  });

  it("the job list is withheld when one of its two lists failed, rather than shown silently short", () => {
    const pipelines = [job("p1", "PIPELINE" as JobSummary["kind"], "2026-01-02")];
    const single = [job("j1", "TRAIN" as JobSummary["kind"], "2026-01-01")];
    const both = renderHook(() => useJobs(50, false), { wrapper: answering({ data: { pipelines, jobs: single } }) });
    expect(both.result.current.jobs?.map((j) => j.id)).toEqual(["p1", "j1"]);
    const half = renderHook(() => useJobs(50, false), {
      wrapper: answering({ data: { pipelines: null, jobs: single }, error: fieldError("pipelines", "UNAVAILABLE") }),
    });
    expect(half.result.current.jobs).toBeNull();
    expect(half.result.current.error?.graphQLErrors[0].path).toEqual(["pipelines"]);
  });
});

describe("live queries (prompt, search, trace, steering, attribution)", () => {
  function recording(answer: { data?: unknown; error?: CombinedError }) {
    const policies: (string | undefined)[] = [];
    return { policies, wrapper: answering(answer, policies) };
  }

  it("paused, they ask nothing and show nothing: no answer, no loading, no error", () => {
    const { policies, wrapper } = recording({ data: { search: [{ index: 3 }] }, error: fieldError("search", "UNAVAILABLE") });
    const { result } = renderHook(() => useSearch("r1", "   "), { wrapper });
    expect(result.current).toMatchObject({ hits: null, fetching: false, error: undefined });
    expect(policies).toEqual([]);
  });

  it("active, they answer from the cache first, show the answer and its error, and retry past the cache", () => {
    const { policies, wrapper } = recording({ data: { search: [{ index: 3 }] }, error: fieldError("search", "UNAVAILABLE") });
    const { result } = renderHook(() => useSearch("r1", "cat"), { wrapper });
    expect(result.current.hits).toEqual([{ index: 3 }]);
    expect(result.current.error?.graphQLErrors[0].extensions.code).toBe("UNAVAILABLE");
    expect(policies).toEqual(["cache-first"]);
    act(() => result.current.retry());
    expect(policies).toEqual(["cache-first", "network-only"]);
  });

  it("a feature trace needs a run, a feature and some text before it asks", () => {
    const trace = { index: 2, tokens: ["a"], activations: [1], maxActivation: 1 };
    const { policies, wrapper } = recording({ data: { featureActivations: trace } });
    expect(renderHook(() => useFeatureTrace("r1", null, "a cat"), { wrapper }).result.current.trace).toBeNull();
    expect(renderHook(() => useFeatureTrace("r1", 2, " "), { wrapper }).result.current.trace).toBeNull();
    expect(policies).toEqual([]);
    expect(renderHook(() => useFeatureTrace("r1", 2, "a cat"), { wrapper }).result.current.trace).toEqual(trace);
  });
});
