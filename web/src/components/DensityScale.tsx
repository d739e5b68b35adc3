/** The axis of the explorer's density bars: one labelled tick per decade, so a bar's length can be read. */
import { densityTicks } from "../lib/format";

export function DensityScale({ floor }: { floor: number }) {
  const ticks = densityTicks(floor);
  const every = ticks.length > 3 ? 2 : 1; // keep labels legible: every other decade on wider ranges
  return (
    <span className="density-scale" data-testid="density-scale" title={`log scale from ${ticks[0][1]} to ${ticks.at(-1)![1]}, one tick per factor of ten`}>
      {ticks.map(([e, label], i) => (
        <span key={e} className={`density-tick${(ticks.length - 1 - i) % every === 0 ? "" : " minor"}`} style={{ left: `${(i / (ticks.length - 1)) * 100}%` }} aria-hidden="true">
          {(ticks.length - 1 - i) % every === 0 ? label : ""}
        </span>
      ))}
    </span>
  );
}
