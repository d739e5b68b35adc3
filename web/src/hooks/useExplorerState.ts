/** The explorer's page, sort and filters, living in the URL (shareable, back button works). */
import { useMemo } from "react";
import { featureFilter, nextSort, parseExplorerParams, sortVariables, type SortParam } from "../lib/explorerParams";
import { useUrlParams } from "./useUrlParams";

/** `denseThreshold`: the run's (for "hide dense"). */
export function useExplorerState(denseThreshold?: number) {
  const { params, update } = useUrlParams();
  const state = useMemo(() => parseExplorerParams(params), [params]);
  const filter = useMemo(() => featureFilter(state, denseThreshold), [state, denseThreshold]);
  return {
    state,
    filter,
    ...sortVariables(state),
    setPage: (page: number) => update({ page: page > 1 ? page : null }),
    setSort: (column: SortParam) => {
      const s = nextSort(state, column);
      update({ sort: s.sort === "index" ? null : s.sort, order: s.order === "asc" ? null : s.order, page: null });
    },
    /** Filters change the result set, so they go back to page 1 (and replace history while typing). */
    setFilters: (updates: Record<string, string | null>, replace = false) => update({ ...updates, page: null }, { replace }),
  };
}
