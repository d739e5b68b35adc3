/** One search hit: feature link, label, where it matched, and the snippet with the query marked. */
import { Link } from "react-router";
import { fmtDensity, fmtNumber } from "../lib/format";
import { featurePath } from "../lib/routes";
import { Highlight } from "./Highlight";

export interface Hit {
  index: number;
  label?: string | null;
  grade?: string | null;
  density: number;
  score: number;
  field: string;
  snippet: string;
}

export function SearchResultItem({ runId, hit, query }: { runId: string; hit: Hit; query: string }) {
  return (
    <li className="example" data-testid="search-hit" style={{ display: "block" }}>
      <div className="row">
        <Link to={featurePath(runId, hit.index)} className="mono">
          #{hit.index}
        </Link>
        <Link to={featurePath(runId, hit.index)} style={{ fontWeight: 600 }}>
          <Highlight text={hit.label || "unlabelled"} query={query} />
        </Link>
        <span className="badge">{hit.field.toLowerCase()}</span>
        <span className="small muted">density {fmtDensity(hit.density)}</span>
        <span className="small muted" title="relevance">
          score {fmtNumber(hit.score, 2)}
        </span>
      </div>
      <div className="small tokens">
        <Highlight text={hit.snippet} query={query} />
      </div>
    </li>
  );
}
