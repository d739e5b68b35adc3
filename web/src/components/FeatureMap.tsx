/** The dictionary map as an SVG scatter: one linked dot per feature, coloured by density, with a legend. */
import { Link } from "react-router";
import { fmtDensity } from "../lib/format";
import { densityColour, MAP_FLOOR } from "../lib/mapColour";
import { featurePath } from "../lib/routes";

export interface MapPointView {
  index: number;
  x: number;
  y: number;
  density: number;
  dead: boolean;
  dense: boolean;
  label?: string | null;
}

const SIZE = 1000;
const PAD = 20;

export function FeatureMap({ runId, points, hideDead }: { runId: string; points: readonly MapPointView[]; hideDead: boolean }) {
  const shown = hideDead ? points.filter((p) => !p.dead) : points;
  const r = shown.length > 5000 ? 3 : shown.length > 1000 ? 5 : 8;
  return (
    <figure className="stack" style={{ margin: 0 }}>
      <svg viewBox={`0 0 ${SIZE} ${SIZE}`} role="group" aria-label={`Map of ${shown.length} features: each a link to its page`} data-testid="feature-map" style={{ width: "100%", maxWidth: "48rem", aspectRatio: "1", background: "var(--panel-2, transparent)" }}>
        {shown.map((p) => {
          const name = `#${p.index}${p.label ? ` ${p.label}` : ""} · ${p.dead ? "dead" : `fires on ${fmtDensity(p.density)} of tokens`}${p.dense ? " (dense)" : ""}`;
          return (
            <Link key={p.index} to={featurePath(runId, p.index)} aria-label={name} data-testid="map-point" data-index={p.index}>
              <circle cx={PAD + p.x * (SIZE - 2 * PAD)} cy={PAD + (1 - p.y) * (SIZE - 2 * PAD)} r={r} fill={densityColour(p.density, p.dead)} stroke={p.dense ? "currentColor" : "none"} strokeWidth={p.dense ? 2 : 0}>
                <title>{name}</title>
              </circle>
            </Link>
          );
        })}
      </svg>
      <figcaption className="small muted" data-testid="map-legend">
        Each dot is a feature; dots close together have similar decoder directions (a UMAP-style layout of the decoder rows, computed at analysis time).
        Colour: density, light = rare (≤ {fmtDensity(10 ** MAP_FLOOR)}) to dark = frequent (100 %); grey = dead; ringed = dense. Click a dot to open the feature.
      </figcaption>
    </figure>
  );
}
