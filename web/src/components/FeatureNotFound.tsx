/** A feature index the run does not have (or has not analysed): says why and suggests only indices inside the run. */
import { Link } from "react-router";
import { explorerPath, featurePath } from "../lib/routes";
import { EmptyState } from "./EmptyState";

interface Props {
  runId: string;
  runName?: string | null;
  index: number;
  /** Features in the run's dictionary (null when the run itself is unknown). */
  dSae: number | null;
  analysed: boolean;
  /** False when the run's facts could not be read (then nothing is claimed about the run). */
  runAnswered: boolean;
}

export function FeatureNotFound({ runId, runName, index, dSae, analysed, runAnswered }: Props) {
  const name = runName ? `“${runName}”` : runId;
  if (!runAnswered)
    return (
      <EmptyState title={`Feature #${index} not found in run ${runId}`}>
        The run may have fewer features, or it has not been analysed yet. <Link to={explorerPath(runId)}>Back to the explorer</Link>.
      </EmptyState>
    );
  if (dSae === null)
    return (
      <EmptyState title={`Feature #${index} not found`}>
        There is no run {runId}. <Link to="/">Pick a run in the explorer</Link>.
      </EmptyState>
    );
  if (index < dSae)
    return (
      <EmptyState title={`Feature #${index} has no analysis results`}>
        {analysed ? `Run ${name} has no analysis results for it.` : `Run ${name} has not been analysed yet: submit an analysis on the Jobs page.`}{" "}
        <Link to={explorerPath(runId)}>Back to the explorer</Link>.
      </EmptyState>
    );
  const last = dSae - 1;
  return (
    <EmptyState title={`Feature #${index} is outside run ${name}`}>
      <span data-testid="feature-range">
        This run has features #0 – #{last}. Try <Link to={featurePath(runId, last)}>#{last} (the last)</Link>,{" "}
        <Link to={featurePath(runId, 0)}>#0</Link> or <Link to={explorerPath(runId)}>the explorer</Link>.
      </span>
    </EmptyState>
  );
}
