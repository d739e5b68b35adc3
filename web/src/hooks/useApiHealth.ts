/** Gateway reachability for the banner; while down, pings every few seconds so the banner clears by itself. */
import { useEffect, useSyncExternalStore } from "react";
import { getHealth, pingGateway, subscribeHealth } from "../api/health";
import { isStaticMode } from "../api/staticMode";

export function useApiHealth(retryMs = 5000) {
  const health = useSyncExternalStore(subscribeHealth, getHealth);
  useEffect(() => {
    if (health.reachable || isStaticMode()) return;
    const t = setInterval(() => void pingGateway(), retryMs);
    return () => clearInterval(t);
  }, [health.reachable, retryMs]);
  return health;
}
