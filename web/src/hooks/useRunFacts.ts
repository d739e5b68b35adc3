/** What the explorer and feature pages need to know about a run: name, size, grades, and its analysis summary. */
import { graphql } from "../gql";
import { useQueryState } from "./queryState";
import { DEFAULT_DENSE_THRESHOLD } from "../lib/explorerParams";

export const RunFactsQuery = graphql(`
  query RunFacts($id: ID!) {
    run(id: $id) {
      ...RunFactsFields
    }
  }
`);

/** The numbers of summary.json the pages use (the rest of it holds server paths the client never shows). */
export interface AnalysisFacts {
  /** Tokens that entered the analysis statistics (densities are fractions of these). */
  nTokens: number | null;
  /** Density above which a feature counts as dense. */
  denseThreshold: number;
}

export function analysisFacts(summary: unknown): AnalysisFacts {
  const s = (summary ?? {}) as Record<string, unknown>;
  const n = typeof s.n_tokens === "number" && s.n_tokens > 0 ? s.n_tokens : null;
  const t = typeof s.dense_threshold === "number" && s.dense_threshold > 0 ? s.dense_threshold : DEFAULT_DENSE_THRESHOLD;
  return { nTokens: n, denseThreshold: t };
}

export function useRunFacts(id: string | null) {
  const { data, status } = useQueryState({ query: RunFactsQuery, variables: { id: id ?? "" }, pause: !id });
  const run = data?.run ?? null;
  return {
    run,
    grades: run?.grades ?? [],
    analysis: analysisFacts(run?.summary),
    fetching: status.fetching,
    /** True once the server answered (run may still be null: no such run, or its error). */
    answered: !!data,
  };
}
