/** The run a page works on: `?run=` in the URL, else the last one used, else the newest analysed run. */
import { useCallback, useEffect, useMemo } from "react";
import { useRuns } from "./useRuns";
import { useUrlParams } from "./useUrlParams";

const KEY = "saelab.lastRun";

function remembered(): string | null {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function useCurrentRun(explicit?: string | null) {
  const { get, update } = useUrlParams();
  const fromUrl = explicit ?? get("run");
  const { runs, fetching, error, retry } = useRuns();

  const runId = useMemo(() => {
    if (fromUrl) return fromUrl;
    if (!runs?.length) return null;
    const last = remembered();
    if (last && runs.some((r) => r.id === last)) return last;
    const analysed = runs.filter((r) => r.analysed);
    const pool = analysed.length ? analysed : runs;
    return [...pool].sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0].id;
  }, [fromUrl, runs]);

  useEffect(() => {
    if (!runId) return;
    try {
      localStorage.setItem(KEY, runId);
    } catch {
      /* not remembered across visits; harmless */
    }
  }, [runId]);

  /** Switch run: resets the page (feature indices and counts differ between runs). */
  const setRun = useCallback((id: string) => update({ run: id, page: null }), [update]);
  const run = runs?.find((r) => r.id === runId) ?? null;
  return { runId, run, runs, fetching, error, retry, setRun };
}
