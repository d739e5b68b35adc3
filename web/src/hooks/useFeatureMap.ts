/** Every feature's place on a run's 2-D dictionary map (decoder directions laid out by the analysis). */
import { useQuery } from "urql";
import { graphql } from "../gql";

export const FeatureMapQuery = graphql(`
  query FeatureMap($runId: ID!) {
    featureMap(runId: $runId) {
      index
      x
      y
      density
      dead
      dense
      label
    }
  }
`);

export function useFeatureMap(runId: string) {
  const variables = { runId };
  const [result, reexecute] = useQuery({ query: FeatureMapQuery, variables, pause: !runId });
  return {
    points: result.data?.featureMap ?? [],
    fetching: result.fetching && !result.data,
    error: result.error,
    retry: () => reexecute({ requestPolicy: "network-only" }),
    apiQuery: { document: FeatureMapQuery, variables },
  };
}
