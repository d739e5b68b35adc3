/**
 * Every feature of a filtered, sorted explorer list (all its pages, fetched one after another with the largest
 * page the server allows), for export as CSV or JSON; refuses lists over MAX_EXPORT_ROWS.
 */
import { useCallback, useState } from "react";
import { useClient } from "urql";
import type { FeatureFilter, FeatureSort, SortOrder } from "../gql/graphql";
import { FeaturesPageQuery } from "./useFeaturesPage";

export const MAX_EXPORT_ROWS = 50_000;
const FALLBACK_PAGE = 100;

export interface ExportArgs {
  runId: string;
  sort: FeatureSort;
  order: SortOrder;
  filter: FeatureFilter | null;
  /** serverInfo.maxPageSize, when known. */
  maxPageSize?: number | null;
}

export function useFeatureListExport() {
  const client = useClient();
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);

  const fetchAll = useCallback(
    async (a: ExportArgs) => {
      setError(null);
      const first = Math.max(1, a.maxPageSize ?? FALLBACK_PAGE);
      const rows = [];
      try {
        for (let page = 1; ; page++) {
          const r = await client.query(FeaturesPageQuery, { runId: a.runId, page, first, sort: a.sort, order: a.order, filter: a.filter }, { requestPolicy: "network-only" }).toPromise();
          if (r.error) throw new Error(r.error.message);
          const conn = r.data?.features;
          if (!conn) throw new Error("the server sent no features");
          if (conn.totalCount > MAX_EXPORT_ROWS)
            throw new Error(`${conn.totalCount.toLocaleString("en")} features match: export at most ${MAX_EXPORT_ROWS.toLocaleString("en")} (narrow the filters)`);
          if (conn.page !== page) break; // the server clamps a page past the end
          rows.push(...conn.nodes);
          setProgress({ done: rows.length, total: conn.totalCount });
          if (rows.length >= conn.totalCount || !conn.nodes.length) break;
        }
        return rows;
      } catch (err) {
        setError(`Export failed: ${err instanceof Error ? err.message : String(err)}`);
        return null;
      } finally {
        setProgress(null);
      }
    },
    [client],
  );
  return { fetchAll, progress, error };
}
