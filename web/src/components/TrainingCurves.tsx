/** The training curves a reviewer looks at: loss, MSE, L0, explained variance, dead fraction. */
import type { CurvePoint } from "../hooks/useTrainingCurves";
import { MetricChart, type MetricKey } from "./MetricChart";

const CURVES: { metric: MetricKey; title: string; logY?: boolean }[] = [
  { metric: "loss", title: "Loss", logY: true },
  { metric: "mse", title: "MSE", logY: true },
  { metric: "l0", title: "L0 (active features / token)" },
  { metric: "explainedVariance", title: "Explained variance" },
  { metric: "deadFraction", title: "Dead fraction (silent > dead_feature_threshold tokens)" },
];

export function TrainingCurves({ points }: { points: readonly CurvePoint[] }) {
  return (
    <div className="grid-3" data-testid="training-curves" data-steps={points.length}>
      {CURVES.map((c) => (
        <MetricChart key={c.metric} points={points} metric={c.metric} title={c.title} logY={c.logY} />
      ))}
    </div>
  );
}
