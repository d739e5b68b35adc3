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
  return [...fresh, ...fetched.map((j) => live.get(j.id) ?? j)];
}

export const TERMINAL_STATUSES = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);
