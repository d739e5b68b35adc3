/** What the server is (version, embedded/distributed, whether mutations need a token, prompt limit). */
import { graphql } from "../gql";
import { useQueryState } from "./queryState";

export const ServerInfoQuery = graphql(`
  query ServerInfo {
    serverInfo {
      version
      mode
      authRequired
      maxPromptTokens
      maxPageSize
    }
  }
`);

export function useServerInfo() {
  const { data, result } = useQueryState({ query: ServerInfoQuery });
  return { info: data?.serverInfo ?? null, fetching: result.fetching, error: result.error };
}
