/** Collected activation datasets (what a training job can train on). */
import { useQuery } from "urql";
import { graphql } from "../gql";

export const DatasetsQuery = graphql(`
  query Datasets {
    datasets {
      id
      name
      model
      hook
      nTokens
      complete
    }
  }
`);

export function useDatasets(pause = false) {
  const [result, reexecute] = useQuery({ query: DatasetsQuery, pause });
  return {
    datasets: result.data?.datasets ?? null,
    fetching: result.fetching && !result.data,
    error: result.error,
    retry: () => reexecute({ requestPolicy: "network-only" }),
  };
}
