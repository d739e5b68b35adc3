/** This feature's activation on every token of a typed prompt (live inference, debounced by the caller). */
import { graphql } from "../gql";
import { useLiveQuery } from "./queryState";

export const FeatureTraceQuery = graphql(`
  query FeatureTrace($runId: ID!, $index: Int!, $text: String!) {
    featureActivations(runId: $runId, index: $index, text: $text) {
      index
      tokens
      activations
      maxActivation
    }
  }
`);

export function useFeatureTrace(runId: string | null, index: number | null, text: string) {
  const active = !!runId && index !== null && text.trim().length > 0;
  const { data, ...status } = useLiveQuery(
    { query: FeatureTraceQuery, variables: { runId: runId ?? "", index: index ?? 0, text } },
    active,
  );
  return { trace: data?.featureActivations ?? null, ...status };
}
