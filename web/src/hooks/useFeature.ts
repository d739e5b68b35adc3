/** Everything the feature detail page shows about one feature. */
import { graphql } from "../gql";
import { isAbsent, useQueryState } from "./queryState";

export const FeatureDetailQuery = graphql(`
  query FeatureDetail($runId: ID!, $index: Int!) {
    feature(runId: $runId, index: $index) {
      runId
      ...FeatureStats
      labelDescription
      topTokens {
        token
        value
      }
      explanations {
        id
        text
        description
        method
        model
        author
        editable
        sampleSize
        sampleUnit
        scores {
          name
          value
          ciLow
          ciHigh
          n
          unit
          reason
          help
        }
      }
      histogram {
        edges
        counts
        zeroFraction
      }
      topExamples {
        tokens
        activations
        maxPosition
        maxActivation
      }
      quantileSamples {
        tokens
        activations
        maxPosition
        maxActivation
        quantile
      }
      logitLens {
        top {
          token
          value
        }
        bottom {
          token
          value
        }
      }
      decoderNeighbours {
        index
        label
        score
      }
      coactivationNeighbours {
        index
        label
        score
      }
    }
  }
`);

export function useFeature(runId: string | null, index: number | null) {
  const valid = runId !== null && index !== null && Number.isInteger(index) && index >= 0;
  const variables = { runId: runId ?? "", index: index ?? 0 };
  const { data, status } = useQueryState({ query: FeatureDetailQuery, variables, pause: !valid });
  const feature = data?.feature ?? null;
  return {
    feature,
    notFound: isAbsent(!!data, feature, status.error) || (!valid && runId !== null),
    ...status,
    apiQuery: { document: FeatureDetailQuery, variables },
  };
}
