/** One run's summary: config, eval card and density histogram (curves come from useTrainingCurves). */
import { useQuery } from "urql";
import { graphql } from "../gql";

export const RunQuery = graphql(`
  query Run($id: ID!) {
    run(id: $id) {
      id
      name
      status
      createdAt
      datasetId
      model
      hook
      architecture
      dIn
      dSae
      config
      analysed
      featureCount
      grades
      summary
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
  const [result, reexecute] = useQuery({ query: RunQuery, variables, pause: !id });
  return {
    run: result.data?.run ?? null,
    notFound: !!result.data && result.data.run === null,
    fetching: result.fetching && !result.data,
    error: result.error,
    retry: () => reexecute({ requestPolicy: "network-only" }),
    apiQuery: { document: RunQuery, variables },
  };
}
