/** The job list, kept live by the jobUpdates subscription (all jobs). */
import { useMemo } from "react";
import { useQuery, useSubscription } from "urql";
import { graphql } from "../gql";
import { JobUpdatesSubscription, mergeJobs, type JobSummary } from "./jobFields";

/** Pipelines and single jobs: asked for separately, since a gateway may list pipelines only by kind. */
export const JobsQuery = graphql(`
  query Jobs($first: Int!) {
    pipelines: jobs(kind: PIPELINE, first: $first) {
      ...JobFields
    }
    jobs(first: $first) {
      ...JobFields
    }
  }
`);

/** Top-level jobs (pipelines and jobs outside any pipeline), each once, newest first. */
export function topLevelJobs(lists: readonly (readonly JobSummary[])[], first: number): JobSummary[] {
  const byId = new Map<string, JobSummary>();
  for (const list of lists) for (const j of list) if (!j.parentId) byId.set(j.id, j);
  return [...byId.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, first);
}

export function useJobs(first = 50, live = true) {
  const [result, reexecute] = useQuery({ query: JobsQuery, variables: { first } });
  const [sub] = useSubscription(
    { query: JobUpdatesSubscription, pause: !live },
    (acc: Map<string, JobSummary> | undefined, data) => {
      const next = new Map(acc ?? []);
      next.set(data.jobUpdates.id, data.jobUpdates);
      return next;
    },
  );
  const jobs = useMemo(() => {
    if (!result.data) return null;
    const fetched = topLevelJobs([result.data.pipelines, result.data.jobs], first);
    return mergeJobs(fetched, sub.data ?? new Map()).filter((j) => !j.parentId);
  }, [result.data, sub.data, first]);
  return {
    jobs,
    fetching: result.fetching && !result.data,
    error: result.error,
    liveError: sub.error,
    retry: () => reexecute({ requestPolicy: "network-only" }),
  };
}
