/** A feature's explanations, each with its method, model and scores (tooltips say what a score measures). */
import type { Explanation } from "../lib/explanations";
import { fmtNumber } from "../lib/format";

export function ExplanationList({ explanations }: { explanations: readonly Explanation[] }) {
  if (!explanations.length) return <div className="muted small">No explanation yet.</div>;
  return (
    <ul className="plain explanations" data-testid="explanations">
      {explanations.map((e, i) => (
        <li key={i} className="stack" style={{ gap: "0.2rem", alignItems: "stretch" }} data-testid="explanation">
          <div>
            <q>{e.text}</q>
          </div>
          {e.detail && <div className="small muted">{e.detail}</div>}
          <div className="row small">
            <span className="badge" data-testid="explanation-method">
              {e.method}
              {e.model && ` · ${e.model}`}
            </span>
            {e.scores.map((s) => (
              <span key={s.name} title={s.help} className="small">
                {s.name}: <strong>{fmtNumber(s.value, 2)}</strong>
                {s.caveat && (
                  <span className="warn-text">
                    {" "}
                    ⚠ {s.caveat}
                  </span>
                )}
              </span>
            ))}
          </div>
        </li>
      ))}
    </ul>
  );
}
