/** Every listed feature on one clicked token (first few, then "show all"), each linked and selectable for shading. */
import { useState } from "react";
import { Link } from "react-router";
import { fmtNumber } from "../lib/format";
import type { PromptFeature } from "../lib/promptFeatures";
import { featurePath } from "../lib/routes";
import { TokenChip } from "./TokenChip";

/** Rows shown before "Show all". */
export const FIRST_ROWS = 8;

interface Props {
  runId: string;
  token: string;
  position: number;
  /** Active features on this token (as many as the server listed). */
  l0: number;
  features: readonly PromptFeature[];
  /** The server's per-token cap (for the note when a list was cut). */
  cap: number;
  shading: readonly number[];
  onToggleShade: (index: number) => void;
}

export function TokenFeatureList({ runId, token, position, l0, features, cap, shading, onToggleShade }: Props) {
  const [all, setAll] = useState(false);
  const shown = all ? features : features.slice(0, FIRST_ROWS);
  return (
    <div data-testid="token-features" className="stack" style={{ gap: "0.4rem" }}>
      <h3>
        Features on <TokenChip token={token} /> (position {position})
      </h3>
      <div className="small muted" data-testid="token-l0">
        {l0} feature{l0 === 1 ? "" : "s"} active on this token
        {features.length < l0 ? `; the ${features.length} strongest are listed (the server lists at most ${cap} per token)` : "; all listed"}.
      </div>
      {features.length === 0 ? (
        <div className="muted small">No feature fires on this token.</div>
      ) : (
        <ul className="plain">
          {shown.map((f) => {
            const on = shading.includes(f.index);
            return (
              <li key={f.index} data-testid="token-feature">
                <Link to={featurePath(runId, f.index)} className="mono">
                  #{f.index}
                </Link>
                <span style={{ flex: 1 }}>{f.label || <span className="muted">unlabelled</span>}</span>
                <span className="num small">{fmtNumber(f.activation, 3)}</span>
                <button type="button" className="small" aria-pressed={on} aria-label={`${on ? "Shading by" : "Shade by"} #${f.index}`} onClick={() => onToggleShade(f.index)}>
                  {on ? "Shading" : "Shade by"}
                </button>
              </li>
            );
          })}
        </ul>
      )}
      {features.length > FIRST_ROWS && (
        <button type="button" className="small" onClick={() => setAll((a) => !a)} data-testid="token-show-all">
          {all ? `Show the first ${FIRST_ROWS}` : `Show all ${features.length}`}
        </button>
      )}
    </div>
  );
}
