/** Evaluated runs of one dataset (or chosen runs) side by side, with their Pareto fronts (compareRuns). */
import { graphql } from "../gql";
import { useQueryState } from "./queryState";

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
  const { data, status } = useQueryState({ query: CompareRunsQuery, variables, pause });
  return { comparison: data?.compareRuns ?? null, ...status };
}
