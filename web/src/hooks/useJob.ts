/** One job with its pipeline stages, kept live by the jobUpdates subscription. */
import { useEffect, useMemo, useRef } from "react";
import { useQuery, useSubscription } from "urql";
import { graphql } from "../gql";
import { JobUpdatesSubscription, TERMINAL_STATUSES, type JobSummary } from "./jobFields";

export const JobQuery = graphql(`
  query Job($id: ID!) {
    job(id: $id) {
      ...JobFields
      config
      children {
        ...JobFields
      }
    }
  }
`);

export function useJob(id: string) {
  const [result, reexecute] = useQuery({ query: JobQuery, variables: { id } });
  const [sub] = useSubscription({ query: JobUpdatesSubscription, variables: { jobId: id } }, (acc: Map<string, JobSummary> | undefined, data) => {
    const next = new Map(acc ?? []);
    next.set(data.jobUpdates.id, data.jobUpdates);
    return next;
  });
  const fetched = result.data?.job ?? null;
  const live = sub.data;
  const job = useMemo(() => {
    if (!fetched) return null;
    const mine = live?.get(fetched.id);
    const children = fetched.children.map((c) => live?.get(c.id) ?? c);
    for (const u of live?.values() ?? []) if (u.parentId === fetched.id && !children.some((c) => c.id === u.id)) children.push(u);
    return { ...fetched, ...(mine ?? {}), children };
  }, [fetched, live]);

  // A stage that finished or a new stage may change fields the subscription does not carry (config, runId).
  // Only a stage finishing while the page is open triggers it: the first answer already has the finished ones.
  const doneCount = job ? job.children.filter((c) => TERMINAL_STATUSES.has(c.status)).length : null;
  const lastDone = useRef<number | null>(null);
  useEffect(() => {
    if (doneCount === null) return;
    const before = lastDone.current;
    lastDone.current = doneCount;
    if (before !== null && doneCount > before) reexecute({ requestPolicy: "network-only" });
  }, [doneCount, reexecute]);

  const trainRunId = job?.runId ?? job?.children.find((c) => c.kind === "TRAIN")?.runId ?? null;
  return {
    job,
    trainRunId,
    notFound: !!result.data && result.data.job === null,
    fetching: result.fetching && !result.data,
    error: result.error,
    liveError: sub.error,
    retry: () => reexecute({ requestPolicy: "network-only" }),
  };
}
