/** What the server is (version, embedded/distributed, whether mutations need a token, prompt limit). */
import { useQuery } from "urql";
import { graphql } from "../gql";

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
  const [result] = useQuery({ query: ServerInfoQuery });
  return { info: result.data?.serverInfo ?? null, fetching: result.fetching, error: result.error };
}
