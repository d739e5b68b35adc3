/** Tokens of a prompt with every active feature on each token (live inference), up to the server's cap. */
import { graphql } from "../gql";
import { useLiveQuery } from "./queryState";

export const AnalysePromptQuery = graphql(`
  query AnalysePrompt($runId: ID!, $text: String!, $topK: Int!) {
    analysePrompt(runId: $runId, text: $text, topK: $topK) {
      tokens {
        position
        token
        l0
        maxActivation
        features {
          index
          label
          activation
        }
      }
    }
  }
`);

/**
 * Features listed per token: the gateway's cap (MAX_TOP_K in services/gateway/inference.py; serverInfo does not
 * report it yet). TopK SAEs up to k = 50 get every active feature; a token with more is marked as cut.
 */
export const PROMPT_TOP_K = 50;

export function usePromptAnalysis(runId: string | null, text: string, topK = PROMPT_TOP_K) {
  const active = !!runId && text.trim().length > 0;
  const variables = { runId: runId ?? "", text, topK };
  const { data, ...status } = useLiveQuery({ query: AnalysePromptQuery, variables }, active);
  return {
    tokens: data?.analysePrompt?.tokens ?? null,
    ...status,
    apiQuery: { document: AnalysePromptQuery, variables },
  };
}
