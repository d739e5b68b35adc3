/** Attribution (live inference): the features that push the model towards a target token after a prompt. */
import { graphql } from "../gql";
import { useLiveQuery } from "./queryState";

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
  const { data, ...status } = useLiveQuery({ query: AttributeQuery, variables }, active);
  return { attribution: data?.attribute ?? null, ...status };
}
