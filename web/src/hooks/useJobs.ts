/** The job list, kept live by the jobUpdates subscription (all jobs). */
import { useMemo } from "react";
import { useQuery, useSubscription } from "urql";
import { graphql } from "../gql";
import { JobUpdatesSubscription, mergeJobs, type JobSummary } from "./jobFields";

export const JobsQuery = graphql(`
  query Jobs($first: Int!) {
    jobs(first: $first) {
      ...JobFields
    }
  }
`);

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
    return mergeJobs(result.data.jobs, sub.data ?? new Map()).filter((j) => !j.parentId);
  }, [result.data, sub.data]);
  return {
    jobs,
    fetching: result.fetching && !result.data,
    error: result.error,
    liveError: sub.error,
    retry: () => reexecute({ requestPolicy: "network-only" }),
  };
}
