/** Tokens of a prompt with each token's top features (live inference). */
import { useQuery } from "urql";
import { graphql } from "../gql";

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

export function usePromptAnalysis(runId: string | null, text: string, topK = 8) {
  const active = !!runId && text.trim().length > 0;
  const [result, reexecute] = useQuery({
    query: AnalysePromptQuery,
    variables: { runId: runId ?? "", text, topK },
    pause: !active,
    requestPolicy: "cache-first",
  });
  return {
    tokens: active ? (result.data?.analysePrompt.tokens ?? null) : null,
    fetching: result.fetching,
    error: active ? result.error : undefined,
    retry: () => reexecute({ requestPolicy: "network-only" }),
  };
}
