/** Related features (by decoder cosine or co-activation), each linked to its detail page. */
import { Link } from "react-router";
import { fmtNumber } from "../lib/format";
import { featurePath } from "../lib/routes";

interface Ref {
  index: number;
  label?: string | null;
  score: number;
}

export function NeighbourList({ runId, title, items, testId }: { runId: string; title: string; items: readonly Ref[]; testId?: string }) {
  return (
    <div data-testid={testId}>
      <h3>{title}</h3>
      {items.length === 0 ? (
        <div className="muted small">None recorded.</div>
      ) : (
        <ul className="plain">
          {items.map((n) => (
            <li key={n.index}>
              <Link to={featurePath(runId, n.index)} className="mono">
                #{n.index}
              </Link>
              <span style={{ flex: 1, overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" }}>{n.label || <span className="muted">unlabelled</span>}</span>
              <span className="num small muted">{fmtNumber(n.score, 3)}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
