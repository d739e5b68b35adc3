/** The top features on one clicked token: linked to their pages, each can re-shade the prompt. */
import { Link } from "react-router";
import { displayToken, fmtNumber } from "../lib/format";
import { featurePath } from "../lib/routes";

interface FeatureAct {
  index: number;
  label?: string | null;
  activation: number;
}

interface Props {
  runId: string;
  token: string;
  position: number;
  features: readonly FeatureAct[];
  shadeBy: number | null;
  onShadeBy: (index: number | null) => void;
}

export function TokenFeatureList({ runId, token, position, features, shadeBy, onShadeBy }: Props) {
  return (
    <div data-testid="token-features">
      <h3>
        Top features on <code>{JSON.stringify(displayToken(token))}</code> (position {position})
      </h3>
      {features.length === 0 ? (
        <div className="muted small">No feature fires on this token.</div>
      ) : (
        <ul className="plain">
          {features.map((f) => (
            <li key={f.index}>
              <Link to={featurePath(runId, f.index)} className="mono">
                #{f.index}
              </Link>
              <span style={{ flex: 1 }}>{f.label || <span className="muted">unlabelled</span>}</span>
              <span className="num small">{fmtNumber(f.activation, 3)}</span>
              <button type="button" className="small" aria-pressed={shadeBy === f.index} onClick={() => onShadeBy(shadeBy === f.index ? null : f.index)}>
                {shadeBy === f.index ? "Shading" : "Shade by"}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
