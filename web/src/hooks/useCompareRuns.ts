/** Evaluated runs of one dataset (or chosen runs) side by side, with their Pareto fronts (compareRuns). */
import { useQuery } from "urql";
import { graphql } from "../gql";

export const CompareRunsQuery = graphql(`
  query CompareRuns($datasetId: ID, $runIds: [ID!]) {
    compareRuns(datasetId: $datasetId, runIds: $runIds) {
      datasetId
      points {
        runId
        name
        architecture
        dSae
        k
        sparsityCoefficient
        l0
        explainedVariance
        ceLossRecovered
        deadFraction
        denseFraction
        evalTokens
        evaluated
        onEvFront
        onCeFront
      }
    }
  }
`);

export function useCompareRuns(datasetId: string | null, runIds: string[] | null) {
  const pause = !datasetId && !runIds;
  const variables = runIds ? { runIds } : { datasetId };
  const [result, reexecute] = useQuery({ query: CompareRunsQuery, variables, pause });
  return {
    comparison: result.data?.compareRuns ?? null,
    fetching: result.fetching && !result.data,
    error: result.error,
    retry: () => reexecute({ requestPolicy: "network-only" }),
  };
}
