/** Read and update query-string parameters (page, sort, filters, search text) without losing the others. */
import { useCallback } from "react";
import { useSearchParams } from "react-router";

export type ParamUpdates = Record<string, string | number | null | undefined>;

export function useUrlParams() {
  const [params, setParams] = useSearchParams();
  const get = useCallback((name: string): string | null => params.get(name), [params]);
  const update = useCallback(
    (updates: ParamUpdates, options: { replace?: boolean } = {}) => {
      setParams(
        (prev) => {
          const next = new URLSearchParams(prev);
          for (const [k, v] of Object.entries(updates)) {
            if (v === null || v === undefined || v === "") next.delete(k);
            else next.set(k, String(v));
          }
          return next;
        },
        { replace: options.replace ?? false },
      );
    },
    [setParams],
  );
  return { params, get, update };
}
