/** Rename a feature (relabelFeature); the returned feature refreshes every cached query that shows it. */
import { useMutation } from "urql";
import { graphql } from "../gql";

export const RelabelMutation = graphql(`
  mutation RelabelFeature($runId: ID!, $index: Int!, $label: String!) {
    relabelFeature(runId: $runId, index: $index, label: $label) {
      runId
      index
      label
      labelSource
    }
  }
`);

export function useRelabel() {
  const [state, run] = useMutation(RelabelMutation);
  return {
    saving: state.fetching,
    error: state.error,
    relabel: (runId: string, index: number, label: string) =>
      run({ runId, index, label }, { additionalTypenames: ["Feature", "FeatureConnection", "SearchHit"] }),
  };
}
