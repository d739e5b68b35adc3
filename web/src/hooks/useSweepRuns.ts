/** The runs a sweep job trains, re-read every few seconds until each one is evaluated (and analysed, if asked). */
import { useEffect } from "react";
import { graphql } from "../gql";
import { useQueryState } from "./queryState";

export const SweepRunsQuery = graphql(`
  query SweepRuns($id: ID!) {
    job(id: $id) {
      id
      datasetId
      sweepRuns {
        member
        runId
        name
        architecture
        dSae
        stepsDone
        trained
        evaluated
        analysed
      }
    }
  }
`);

const POLL_MS = 2000;

export function useSweepRuns(jobId: string, { settled }: { settled: (runs: readonly { evaluated: boolean; analysed: boolean }[]) => boolean }) {
  const { data, status } = useQueryState({ query: SweepRunsQuery, variables: { id: jobId } });
  const runs = data?.job?.sweepRuns ?? null;
  const done = runs !== null && settled(runs);
  const { error, retry } = status;
  useEffect(() => {
    if (done || error) return;
    const timer = window.setInterval(retry, POLL_MS);
    return () => window.clearInterval(timer);
  }, [done, error, retry]);
  return { runs, datasetId: data?.job?.datasetId ?? null, error, retry };
}
