/** Steering (live inference): the clean and the intervened continuation of a prompt, run when asked (not as you type). */
import { useState } from "react";
import { graphql } from "../gql";
import { useLiveQuery } from "./queryState";
import type { InterventionInput, SteerQuery as SteerAnswer } from "../gql/graphql";

export const SteerQuery = graphql(`
  query Steer($runId: ID!, $prompt: String!, $interventions: [InterventionInput!]!, $maxNewTokens: Int!, $temperature: Float!, $seed: Int!) {
    steer(runId: $runId, prompt: $prompt, interventions: $interventions, maxNewTokens: $maxNewTokens, temperature: $temperature, seed: $seed) {
      promptTokens
      baselineText
      steeredText
      steps {
        position
        kl
        changed
        baseline {
          token
          probability
        }
        steered {
          token
          probability
        }
        baselineTop {
          token
          probability
        }
        steeredTop {
          token
          probability
        }
      }
    }
  }
`);

/** The gateway's bounds (services/gateway/interventions.py). */
export const MAX_NEW_TOKENS = 64;

/** The generated positions of a steer answer (`steer` is null when it failed: its error says why). */
export type SteerSteps = NonNullable<SteerAnswer["steer"]>["steps"];

export interface SteerRequest {
  prompt: string;
  interventions: InterventionInput[];
  maxNewTokens: number;
  temperature?: number;
  seed?: number;
}

/** `run(request)` starts a steer; `result` is the latest answer for the latest request. */
export function useSteer(runId: string | null) {
  const [request, setRequest] = useState<SteerRequest | null>(null);
  const active = !!runId && request !== null && request.prompt.trim().length > 0;
  const variables = {
    runId: runId ?? "",
    prompt: request?.prompt ?? "",
    interventions: request?.interventions ?? [],
    maxNewTokens: request?.maxNewTokens ?? 16,
    temperature: request?.temperature ?? 0,
    seed: request?.seed ?? 0,
  };
  const { data, ...status } = useLiveQuery({ query: SteerQuery, variables }, active);
  return { run: setRequest, request, result: data?.steer ?? null, ...status };
}
