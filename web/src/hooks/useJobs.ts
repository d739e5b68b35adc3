/** The job list, kept live by the jobUpdates subscription (all jobs). */
import { useMemo } from "react";
import { useSubscription } from "urql";
import { graphql } from "../gql";
import { useQueryState } from "./queryState";
import { JobUpdatesSubscription, laterState, mergeJobs, type JobSummary } from "./jobFields";

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
  const { data, status } = useQueryState({ query: JobsQuery, variables: { first } });
  const [sub] = useSubscription(
    { query: JobUpdatesSubscription, pause: !live },
    (acc: Map<string, JobSummary> | undefined, data) => {
      const next = new Map(acc ?? []);
      next.set(data.jobUpdates.id, laterState(next.get(data.jobUpdates.id), data.jobUpdates));
      return next;
    },
  );
  const jobs = useMemo(() => {
    const { pipelines, jobs: single } = data ?? {};
    // Either list missing (its root field failed: the error says why) would show a list that is silently short.
    if (!pipelines || !single) return null;
    const fetched = topLevelJobs([pipelines, single], first);
    return mergeJobs(fetched, sub.data ?? new Map()).filter((j) => !j.parentId);
  }, [data, sub.data, first]);
  return { jobs, ...status, liveError: sub.error };
}
