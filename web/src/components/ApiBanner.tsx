/** A banner across every page while the gateway cannot be reached (clears itself once it answers again). */
import { pingGateway } from "../api/health";
import { useApiHealth } from "../hooks/useApiHealth";

export function ApiBanner() {
  const health = useApiHealth();
  if (health.reachable) return null;
  return (
    <div className="banner" role="alert" data-testid="api-banner">
      <span>
        <strong>The saelab API is unreachable.</strong> Live data, jobs and prompts are unavailable until it is back
        {health.reason ? ` (${health.reason})` : ""}.
      </span>
      <button type="button" onClick={() => void pingGateway()}>
        Check again
      </button>
    </div>
  );
}
