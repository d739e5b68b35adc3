/** One run's summary: config, eval card and density histogram (curves come from useTrainingCurves). */
import { graphql } from "../gql";
import { isAbsent, useQueryState } from "./queryState";

export const RunQuery = graphql(`
  query Run($id: ID!) {
    run(id: $id) {
      ...RunFactsFields
      status
      createdAt
      datasetId
      model
      hook
      dIn
      config
      eval {
        values
        explainedVariance
        l0
        mse
        ceLossRecovered
        klDivergence
        deadFraction
        denseFraction
      }
      densityHistogram {
        edges
        counts
        zeroFraction
      }
    }
  }
`);

export function useRun(id: string | null) {
  const variables = { id: id ?? "" };
  const { data, status } = useQueryState({ query: RunQuery, variables, pause: !id });
  const run = data?.run ?? null;
  return { run, notFound: isAbsent(!!data, run, status.error), ...status, apiQuery: { document: RunQuery, variables } };
}
