/** Collected activation datasets (what a training job can train on). */
import { graphql } from "../gql";
import { useQueryState } from "./queryState";

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
  const { data, status } = useQueryState({ query: DatasetsQuery, pause });
  return { datasets: data?.datasets ?? null, ...status };
}
