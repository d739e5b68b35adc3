/** The list of runs (for the run picker and the default run). */
import { useQuery } from "urql";
import { graphql } from "../gql";

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
  const [result, reexecute] = useQuery({ query: RunsQuery });
  return {
    runs: result.data?.runs ?? null,
    fetching: result.fetching && !result.data,
    error: result.error,
    retry: () => reexecute({ requestPolicy: "network-only" }),
  };
}
