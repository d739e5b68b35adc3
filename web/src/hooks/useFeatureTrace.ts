/** This feature's activation on every token of a typed prompt (live inference, debounced by the caller). */
import { useQuery } from "urql";
import { graphql } from "../gql";

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
  const [result, reexecute] = useQuery({
    query: FeatureTraceQuery,
    variables: { runId: runId ?? "", index: index ?? 0, text },
    pause: !active,
    requestPolicy: "cache-first",
  });
  return {
    trace: active ? (result.data?.featureActivations ?? null) : null,
    fetching: result.fetching,
    error: active ? result.error : undefined,
    retry: () => reexecute({ requestPolicy: "network-only" }),
  };
}
