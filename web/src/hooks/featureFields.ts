/** The feature fields every feature view selects: its label and the statistics a table row and the detail page show. */
import { graphql } from "../gql";

export const FeatureStatsFields = graphql(`
  fragment FeatureStats on Feature {
    index
    label
    labelSource
    grade
    labelScore
    density
    log10Density
    meanActivation
    maxActivation
    nActive
    dead
    dense
  }
`);
