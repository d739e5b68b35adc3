/** How the prompt heatmap is shaded: strongest feature per token, chosen features, or how many features are strong. */
import { Link } from "react-router";
import type { ShadeMode } from "../lib/promptParams";
import { featurePath } from "../lib/routes";

interface Props {
  runId: string;
  mode: ShadeMode;
  features: readonly number[];
  /** The threshold in use for "count" (the URL's or the default). */
  threshold: number;
  onMode: (mode: ShadeMode) => void;
  onThreshold: (value: number | null) => void;
  onClearFeatures: () => void;
}

export function ShadeControls({ runId, mode, features, threshold, onMode, onThreshold, onClearFeatures }: Props) {
  return (
    <fieldset className="shade-controls small" data-testid="shade-controls">
      <legend>Shade tokens by</legend>
      <label className="row" style={{ gap: "0.3rem" }}>
        <input type="radio" name="shade" checked={mode === "max"} onChange={() => onMode("max")} />
        each token's strongest feature
      </label>
      <label className="row" style={{ gap: "0.3rem" }}>
        <input type="radio" name="shade" checked={mode === "features"} disabled={!features.length} onChange={() => onMode("features")} />
        {features.length ? (
          <span>
            {features.length === 1 ? "feature " : "the strongest of features "}
            {features.map((f, i) => (
              <span key={f}>
                {i > 0 && ", "}
                <Link to={featurePath(runId, f)}>#{f}</Link>
              </span>
            ))}
          </span>
        ) : (
          <span className="muted">chosen features (pick them below with “Shade by”)</span>
        )}
      </label>
      {features.length > 0 && (
        <button type="button" className="small" onClick={onClearFeatures}>
          Clear chosen features
        </button>
      )}
      <label className="row" style={{ gap: "0.3rem" }}>
        <input type="radio" name="shade" checked={mode === "count"} onChange={() => onMode("count")} />
        number of features with activation ≥
        <input
          type="number"
          min={0}
          step="any"
          aria-label="Activation threshold"
          value={Number.isFinite(threshold) ? threshold : ""}
          onChange={(e) => onThreshold(e.target.value === "" ? null : Math.max(0, Number(e.target.value)))}
          style={{ width: "6rem" }}
        />
      </label>
    </fieldset>
  );
}
