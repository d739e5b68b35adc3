/** Density as a log-scaled bar (1e-6 .. 1) plus the percentage. */
import { densityBarFraction, fmtDensity } from "../lib/format";

export function DensityBar({ density }: { density: number }) {
  const pct = densityBarFraction(density) * 100;
  return (
    <span className="nowrap" title={`fires on ${fmtDensity(density)} of tokens`}>
      <span className="density-bar" aria-hidden="true">
        <span style={{ width: `${pct}%` }} />
      </span>
      <span className="num">{fmtDensity(density)}</span>
    </span>
  );
}
