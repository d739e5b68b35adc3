/** The run fields every run view selects: what the explorer and feature pages need to know (useRunFacts). */
import { graphql } from "../gql";

export const RunFactsFields = graphql(`
  fragment RunFactsFields on Run {
    id
    name
    architecture
    dSae
    featureCount
    analysed
    grades
    summary
  }
`);
