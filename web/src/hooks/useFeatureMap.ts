/** Every feature's place on a run's 2-D dictionary map (decoder directions laid out by the analysis). */
import { graphql } from "../gql";
import { useQueryState } from "./queryState";

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
  const { data, status } = useQueryState({ query: FeatureMapQuery, variables, pause: !runId });
  return { points: data?.featureMap ?? [], ...status, apiQuery: { document: FeatureMapQuery, variables } };
}
