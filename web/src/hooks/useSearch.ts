/** Ranked keyword search over a run's labels, tokens and examples. */
import { graphql } from "../gql";
import { useLiveQuery } from "./queryState";

export const SearchQuery = graphql(`
  query Search($runId: ID!, $query: String!, $first: Int!) {
    search(runId: $runId, query: $query, first: $first) {
      index
      label
      grade
      density
      score
      field
      snippet
    }
  }
`);

export function useSearch(runId: string | null, query: string, first = 30) {
  const active = !!runId && query.trim().length > 0;
  const variables = { runId: runId ?? "", query: query.trim(), first };
  const { data, ...status } = useLiveQuery({ query: SearchQuery, variables }, active);
  return { hits: data?.search ?? null, ...status, apiQuery: { document: SearchQuery, variables } };
}
