/** Back to the explorer and to the neighbouring feature indices (only those inside the run). */
import { Link } from "react-router";
import { explorerPath, featurePath } from "../lib/routes";

export function FeatureNav({ runId, index, dSae }: { runId: string; index: number | null; dSae: number | null }) {
  const inRun = (i: number) => i >= 0 && (dSae === null || i < dSae);
  return (
    <nav className="row small" aria-label="Feature navigation">
      <Link to={explorerPath(runId)}>← Explorer</Link>
      {index !== null && inRun(index - 1) && <Link to={featurePath(runId, index - 1)}>‹ #{index - 1}</Link>}
      {index !== null && inRun(index + 1) && <Link to={featurePath(runId, index + 1)}>#{index + 1} ›</Link>}
    </nav>
  );
}
