/** `/features/:id?run=` -> the canonical `/runs/:runId/features/:id` (current run when `run` is absent). */
import { Navigate, useParams } from "react-router";
import { NoRuns } from "../components/NoRuns";
import { ErrorState } from "../components/ErrorState";
import { SkeletonLines } from "../components/Skeleton";
import { useCurrentRun } from "../hooks/useCurrentRun";
import { featurePath } from "../lib/routes";

export function FeatureRedirect() {
  const { id = "" } = useParams();
  const { runId, fetching, error, retry } = useCurrentRun();
  if (runId) return <Navigate replace to={featurePath(runId, Number.parseInt(id, 10))} />;
  if (error) return <ErrorState what="the list of runs" error={error} onRetry={retry} />;
  if (fetching) return <SkeletonLines />;
  return <NoRuns />;
}
