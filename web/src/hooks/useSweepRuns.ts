/** The runs a sweep job trains, re-read every few seconds until each one is evaluated (and analysed, if asked). */
import { useEffect } from "react";
import { useQuery } from "urql";
import { graphql } from "../gql";

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
  const [result, reexecute] = useQuery({ query: SweepRunsQuery, variables: { id: jobId } });
  const runs = result.data?.job?.sweepRuns ?? null;
  const done = runs !== null && settled(runs);
  useEffect(() => {
    if (done || result.error) return;
    const timer = window.setInterval(() => reexecute({ requestPolicy: "network-only" }), POLL_MS);
    return () => window.clearInterval(timer);
  }, [done, result.error, reexecute]);
  return { runs, datasetId: result.data?.job?.datasetId ?? null, error: result.error, retry: () => reexecute({ requestPolicy: "network-only" }) };
}
