/** One job with its pipeline stages, kept live by the jobUpdates subscription. */
import { useEffect, useMemo, useRef } from "react";
import { useSubscription } from "urql";
import { graphql } from "../gql";
import { isAbsent, useQueryState } from "./queryState";
import { JobUpdatesSubscription, TERMINAL_STATUSES, laterState, type JobSummary } from "./jobFields";

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
  const { data, status, reexecute } = useQueryState({ query: JobQuery, variables: { id } });
  const [sub] = useSubscription({ query: JobUpdatesSubscription, variables: { jobId: id } }, (acc: Map<string, JobSummary> | undefined, data) => {
    const next = new Map(acc ?? []);
    next.set(data.jobUpdates.id, laterState(next.get(data.jobUpdates.id), data.jobUpdates));
    return next;
  });
  const fetched = data?.job ?? null;
  const live = sub.data;
  const job = useMemo(() => {
    if (!fetched) return null;
    // a live state replaces the fetched one unless the fetched one is later (e.g. refetched after the stage ended)
    const mine = live?.get(fetched.id);
    const children = fetched.children.map((c) => laterState(c, live?.get(c.id) ?? c));
    for (const u of live?.values() ?? []) if (u.parentId === fetched.id && !children.some((c) => c.id === u.id)) children.push(u);
    return { ...fetched, ...(mine && laterState(fetched, mine) === mine ? mine : {}), children };
  }, [fetched, live]);

  // Refetch when the job moves on while the page is open (a stage finished, or the pipeline's own stage or status
  // changed): the subscription carries the pipeline's fields, not its stages, nor config or runId. Not on the
  // first answer, which is already fresh (a second request then would only cancel the first).
  const doneCount = job ? job.children.filter((c) => TERMINAL_STATUSES.has(c.status)).length : null;
  const phase = job ? `${job.status}|${job.stage}|${doneCount}` : null;
  const lastPhase = useRef<string | null>(null);
  useEffect(() => {
    if (phase === null) return;
    const before = lastPhase.current;
    lastPhase.current = phase;
    if (before !== null && phase !== before) reexecute({ requestPolicy: "network-only" });
  }, [phase, reexecute]);

  const trainRunId = job?.runId ?? job?.children.find((c) => c.kind === "TRAIN")?.runId ?? null;
  return {
    job,
    trainRunId,
    notFound: isAbsent(!!data, fetched, status.error),
    ...status,
    liveError: sub.error,
  };
}
