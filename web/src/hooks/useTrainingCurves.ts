/** A run's logged training steps: fetched once, then appended live from the trainingMetrics subscription. */
import { useEffect, useMemo, useRef } from "react";
import { useSubscription } from "urql";
import { graphql } from "../gql";
import { useQueryState } from "./queryState";
import { isStaticMode } from "../api/staticMode";
import type { CurvePointLike } from "../lib/runView";

/** The numbers of one logged step, the same whether fetched or live. */
export const MetricFields = graphql(`
  fragment MetricFields on MetricPoint {
    step
    loss
    mse
    l1
    l0
    explainedVariance
    deadFraction
  }
`);

export const RunMetricsQuery = graphql(`
  query RunMetrics($id: ID!) {
    run(id: $id) {
      id
      status
      metrics {
        ...MetricFields
      }
    }
  }
`);

export const TrainingMetricsSubscription = graphql(`
  subscription TrainingMetrics($runId: ID!) {
    trainingMetrics(runId: $runId) {
      ...MetricFields
    }
  }
`);

/** One step of a training curve (the shape lib/runView plans charts from). */
export type CurvePoint = CurvePointLike;

/** Fetched and live points merged by step (live wins), sorted by step. */
export function mergeCurves(fetched: readonly CurvePoint[], live: readonly CurvePoint[]): CurvePoint[] {
  const byStep = new Map<number, CurvePoint>();
  for (const p of fetched) byStep.set(p.step, p);
  for (const p of live) byStep.set(p.step, p);
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

export function useTrainingCurves(runId: string | null, { live = true, refetchKey = "" } = {}) {
  const { data, status, reexecute } = useQueryState({ query: RunMetricsQuery, variables: { id: runId ?? "" }, pause: !runId });
  const [sub] = useSubscription(
    { query: TrainingMetricsSubscription, variables: { runId: runId ?? "" }, pause: !runId || !live || isStaticMode() },
    (acc: CurvePoint[] | undefined, data) => [...(acc ?? []), data.trainingMetrics],
  );
  // Refetch when the key changes (a job moved on), not on the first render: the query is already on its way then,
  // and a second request would cancel it (an aborted request on every direct load of a job page).
  const seen = useRef<string | null>(null);
  useEffect(() => {
    const key = `${runId}|${refetchKey}`;
    const first = seen.current === null || !seen.current.startsWith(`${runId}|`);
    seen.current = key;
    if (!first && runId && refetchKey) reexecute({ requestPolicy: "network-only" });
  }, [runId, refetchKey, reexecute]);
  const points = useMemo(
    () => mergeCurves(data?.run?.metrics ?? [], sub.data ?? []),
    [data, sub.data],
  );
  return { points, ...status, liveError: sub.error };
}
