/** Density as a bar on a log scale (10^floor .. 100 %, a tick per decade) plus the percentage. */
import { densityBarFraction, DEFAULT_DENSITY_FLOOR, fmtDensity } from "../lib/format";

export function DensityBar({ density, floor = DEFAULT_DENSITY_FLOOR }: { density: number; floor?: number }) {
  const pct = densityBarFraction(density, floor) * 100;
  return (
    <span className="nowrap" title={`fires on ${fmtDensity(density)} of tokens (log-scale bar)`}>
      <span className="density-bar" aria-hidden="true" style={{ ["--decades" as string]: String(-floor) }}>
        <span style={{ width: `${pct}%` }} />
      </span>
      <span className="num">{fmtDensity(density)}</span>
    </span>
  );
}
