/** Attribution (live inference): the features that push the model towards a target token after a prompt. */
import { useQuery } from "urql";
import { graphql } from "../gql";

export const AttributeQuery = graphql(`
  query Attribute($runId: ID!, $prompt: String!, $target: String, $position: Int) {
    attribute(runId: $runId, prompt: $prompt, target: $target, position: $position) {
      position
      target
      logit
      probability
      tokens {
        position
        token
        positive {
          index
          label
          activation
          attribution
        }
        negative {
          index
          label
          activation
          attribution
        }
      }
      check {
        position
        predictedChange
        actualChange
        agrees
        feature {
          index
          label
          activation
          attribution
        }
      }
    }
  }
`);

/** Attribute ``target`` (a token's text) as the next token after ``prompt``; paused while ``prompt`` is null. */
export function useAttribution(runId: string | null, prompt: string | null, target: string | null) {
  const active = !!runId && !!prompt && prompt.trim().length > 0 && !!target;
  const variables = { runId: runId ?? "", prompt: prompt ?? "", target };
  const [result, reexecute] = useQuery({ query: AttributeQuery, variables, pause: !active, requestPolicy: "cache-first" });
  return {
    attribution: active ? (result.data?.attribute ?? null) : null,
    fetching: active && result.fetching,
    error: active ? result.error : undefined,
    retry: () => reexecute({ requestPolicy: "network-only" }),
  };
}
