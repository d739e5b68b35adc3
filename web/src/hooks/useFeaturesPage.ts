/** One server-side page of a run's features, sorted and filtered. */
import { graphql } from "../gql";
import { useQueryState } from "./queryState";
import type { FeatureFilter, FeatureSort, SortOrder } from "../gql/graphql";

export const FeaturesPageQuery = graphql(`
  query FeaturesPage(
    $runId: ID!
    $page: Int!
    $first: Int!
    $sort: FeatureSort!
    $order: SortOrder!
    $filter: FeatureFilter
  ) {
    features(runId: $runId, page: $page, first: $first, sort: $sort, order: $order, filter: $filter) {
      totalCount
      page
      pageSize
      nodes {
        ...FeatureStats
      }
    }
  }
`);

export interface FeaturesPageArgs {
  runId: string | null;
  page: number;
  pageSize: number;
  sort: FeatureSort;
  order: SortOrder;
  filter: FeatureFilter | null;
}

export function useFeaturesPage(a: FeaturesPageArgs) {
  const variables = { runId: a.runId ?? "", page: a.page, first: a.pageSize, sort: a.sort, order: a.order, filter: a.filter };
  const { data, status, result } = useQueryState({ query: FeaturesPageQuery, variables, pause: !a.runId });
  const conn = data?.features ?? null;
  return {
    features: conn?.nodes ?? null,
    totalCount: conn?.totalCount ?? 0,
    /** The page the server actually returned (it clamps past-the-end pages). */
    page: conn?.page ?? a.page,
    fetching: result.fetching,
    stale: result.stale,
    error: status.error,
    retry: status.retry,
    /** The query and variables behind this page ("show the API query"). */
    apiQuery: { document: FeaturesPageQuery, variables },
  };
}
