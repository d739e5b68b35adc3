/** The empty state of a fresh install: no run in the database yet, and the commands that make one. */
import { Link } from "react-router";
import { EmptyState } from "./EmptyState";

export function NoRuns() {
  return (
    <EmptyState title="No runs yet">
      <div className="stack" data-testid="no-runs">
        <span>
          Run <code>make demo</code> in the saelab checkout (collect, train, evaluate and analyse a quick SAE, then
          register it here), then reload this page.
        </span>
        <span>
          A run directory you made with <code>saelab train</code> (and <code>saelab analyse</code>) shows up after{" "}
          <code>saelab register artifacts/runs/&lt;name&gt;</code>; or submit a pipeline on the{" "}
          <Link to="/jobs">Jobs</Link> page.
        </span>
      </div>
    </EmptyState>
  );
}
