/** Whether the gateway is reachable: set by failed/successful requests, read by the "API unreachable" banner. */

export interface HealthState {
  reachable: boolean;
  /** What the last failure said (for the banner). */
  reason: string;
  /** When reachability last changed (ms since epoch). */
  since: number;
}

let state: HealthState = { reachable: true, reason: "", since: Date.now() };
const listeners = new Set<() => void>();

function set(next: HealthState): void {
  state = next;
  listeners.forEach((l) => l());
}

export function markUnreachable(reason: string): void {
  if (state.reachable || state.reason !== reason) set({ reachable: false, reason, since: Date.now() });
}

export function markReachable(): void {
  if (!state.reachable) set({ reachable: true, reason: "", since: Date.now() });
}

export function getHealth(): HealthState {
  return state;
}

export function subscribeHealth(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * One cheap request to the gateway; updates the state and returns whether it answered with GraphQL.
 * A proxy error page (502/504) or a refused connection both count as unreachable.
 */
export async function pingGateway(url = "/graphql"): Promise<boolean> {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    const body = (await res.json().catch(() => null)) as { data?: unknown } | null;
    if (body && "data" in body) {
      markReachable();
      return true;
    }
    markUnreachable(`the gateway answered HTTP ${res.status} without GraphQL data`);
  } catch (err) {
    markUnreachable(err instanceof Error ? err.message : String(err));
  }
  return false;
}
