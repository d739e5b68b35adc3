/** Ranked keyword search over a run's labels, tokens and examples. */
import { useQuery } from "urql";
import { graphql } from "../gql";

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
  const [result, reexecute] = useQuery({ query: SearchQuery, variables, pause: !active });
  return {
    hits: active ? (result.data?.search ?? null) : null,
    fetching: result.fetching,
    error: active ? result.error : undefined,
    retry: () => reexecute({ requestPolicy: "network-only" }),
    apiQuery: { document: SearchQuery, variables },
  };
}
