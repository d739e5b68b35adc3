/** The job fields every job view selects, and merging live updates into a fetched list. */
import { graphql } from "../gql";
import type { JobFieldsFragment } from "../gql/graphql";

export const JobFields = graphql(`
  fragment JobFields on Job {
    id
    kind
    status
    name
    progress
    stage
    message
    attempts
    error
    createdAt
    startedAt
    finishedAt
    parentId
    runId
    datasetId
  }
`);

export type JobSummary = JobFieldsFragment;

/**
 * Job changes: with a jobId, that job's current state and then every change (a pipeline's stages included);
 * without one, every job's changes (the live job list).
 */
export const JobUpdatesSubscription = graphql(`
  subscription JobUpdates($jobId: ID) {
    jobUpdates(jobId: $jobId) {
      ...JobFields
    }
  }
`);

/** The fetched jobs with live updates applied; jobs first seen live go on top. Keeps newest-first order. */
export function mergeJobs(fetched: readonly JobSummary[], live: ReadonlyMap<string, JobSummary>): JobSummary[] {
  const seen = new Set(fetched.map((j) => j.id));
  const fresh = [...live.values()].filter((j) => !seen.has(j.id));
  fresh.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return [...fresh, ...fetched.map((j) => laterState(j, live.get(j.id) ?? j))];
}

export const TERMINAL_STATUSES = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);

/**
 * The later of two states of one job, whatever order they arrived in: a state from a later attempt wins, and within
 * one attempt a finished state is final, so a running update (a progress event, a stale live entry) never hides it.
 * Otherwise the second argument (the newer arrival) wins.
 */
export function laterState<T extends Pick<JobSummary, "attempts" | "status">>(before: T | undefined, after: T): T {
  if (!before) return after;
  if (before.attempts !== after.attempts) return before.attempts > after.attempts ? before : after;
  return TERMINAL_STATUSES.has(before.status) && !TERMINAL_STATUSES.has(after.status) ? before : after;
}
