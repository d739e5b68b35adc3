/** The LLM explainer job of a feature: its cost/time estimate first (explainEstimate), then the job (explainFeatures). */
import { useCallback } from "react";
import { useMutation, useQuery } from "urql";
import { graphql } from "../gql";

export const ExplainEstimateQuery = graphql(`
  query ExplainEstimate($runId: ID!, $options: JSON) {
    explainEstimate(runId: $runId, options: $options) {
      features
      llmCalls
      promptTokens
      maxCompletionTokens
      seconds
      secondsPerCall
      method
      model
      configured
    }
  }
`);

export const ExplainFeaturesMutation = graphql(`
  mutation ExplainFeatures($runId: ID!, $options: JSON) {
    explainFeatures(runId: $runId, options: $options) {
      ...JobFields
    }
  }
`);

export interface ExplainOptions {
  features: number[];
  n_explain: number;
  n_test: number;
  per_prompt: number;
}

export function useExplainEstimate(runId: string, options: ExplainOptions) {
  const [result] = useQuery({ query: ExplainEstimateQuery, variables: { runId, options }, requestPolicy: "network-only" });
  return { estimate: result.data?.explainEstimate ?? null, fetching: result.fetching, error: result.error ?? null };
}

export function useExplainFeatures() {
  const [state, run] = useMutation(ExplainFeaturesMutation);
  const explain = useCallback(
    async (runId: string, options: ExplainOptions) => {
      const r = await run({ runId, options }, { additionalTypenames: ["Job"] });
      return { job: r.data?.explainFeatures ?? null, error: r.error ?? null };
    },
    [run],
  );
  return { explain, submitting: state.fetching };
}
