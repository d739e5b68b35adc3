/** The training curves that say something for this run (no duplicate loss/MSE chart, no flat L0 chart), with what a point averages. */
import type { CurvePoint } from "../hooks/useTrainingCurves";
import { curvePlan } from "../lib/runView";
import { MetricChart } from "./MetricChart";

interface Props {
  points: readonly CurvePoint[];
  architecture?: string | null;
  k?: number | null;
  /** What one point averages (trainingWindowText), if known. */
  caption?: string | null;
}

export function TrainingCurves({ points, architecture = null, k = null, caption }: Props) {
  const plan = curvePlan(points, architecture, k);
  return (
    <div className="stack" style={{ gap: "0.5rem" }}>
      {caption && (
        <div className="small muted" data-testid="curves-caption">
          {caption}
        </div>
      )}
      <div className="grid-3" data-testid="training-curves" data-steps={points.length}>
        {plan.charts.map((c) => (
          <MetricChart key={c.metric} points={points} metric={c.metric} title={c.title} logY={c.logY} fraction={c.fraction} />
        ))}
      </div>
      {plan.notes.map((n) => (
        <div key={n} className="small muted" data-testid="curves-note">
          {n}
        </div>
      ))}
    </div>
  );
}
