/** The list of runs (for the run picker and the default run). */
import { graphql } from "../gql";
import { useQueryState } from "./queryState";

export const RunsQuery = graphql(`
  query Runs {
    runs {
      id
      name
      status
      createdAt
      model
      hook
      architecture
      dSae
      analysed
      featureCount
    }
  }
`);

export function useRuns() {
  const { data, status } = useQueryState({ query: RunsQuery });
  return { runs: data?.runs ?? null, ...status };
}
