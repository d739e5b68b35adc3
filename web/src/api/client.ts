/** The urql clients: live (HTTP + graphql-ws subscriptions, bearer token, reachability tracking) and static. */
import { Client, cacheExchange, fetchExchange, mapExchange, subscriptionExchange } from "@urql/core";
import { createClient as createWsClient } from "graphql-ws";
import { markReachable, markUnreachable } from "./health";
import { staticExchange } from "./staticExchange";
import { authHeaders } from "./token";

export const GRAPHQL_PATH = "/graphql";

function wsUrl(): string {
  const { protocol, host } = window.location;
  return `${protocol === "https:" ? "wss" : "ws"}://${host}${GRAPHQL_PATH}`;
}

/** A network error means the gateway (or the dev proxy's target) is down; any GraphQL answer means it is up. */
const reachabilityExchange = mapExchange({
  onResult(result) {
    if (result.error?.networkError) markUnreachable(result.error.networkError.message.slice(0, 160));
    else if (result.operation.kind !== "subscription") markReachable();
  },
});

export function createLiveClient(): Client {
  const ws = createWsClient({
    url: wsUrl(),
    lazy: true,
    connectionParams: () => authHeaders(),
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => true,
  });
  return new Client({
    url: GRAPHQL_PATH,
    requestPolicy: "cache-and-network",
    // POST always: urql would otherwise send queries as GET, which proxies and caches treat differently.
    preferGetMethod: false,
    fetchOptions: () => ({ headers: authHeaders() }),
    exchanges: [
      cacheExchange,
      reachabilityExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? "" };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
}

export function createStaticClient(): Client {
  return new Client({ url: GRAPHQL_PATH, requestPolicy: "cache-first", exchanges: [staticExchange] });
}
