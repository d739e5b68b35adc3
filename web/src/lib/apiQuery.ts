/** "Show the API query": the GraphQL document and variables behind a page, as text and as a curl command. */
import { print, type DocumentNode } from "graphql";

export interface ApiQuery {
  document: DocumentNode;
  variables: Record<string, unknown>;
}

/** The query text as the client sends it. */
export function queryText(q: ApiQuery): string {
  return print(q.document);
}

/** A POSIX-shell single-quoted string. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A curl command that asks the gateway at `endpoint` for exactly this data (queries need no token). */
export function curlCommand(q: ApiQuery, endpoint: string): string {
  const body = JSON.stringify({ query: queryText(q).replace(/\s+/g, " ").trim(), variables: q.variables });
  return `curl -s ${shellQuote(endpoint)} -H 'Content-Type: application/json' --data ${shellQuote(body)}`;
}
