/** The stored API token as React state. */
import { useSyncExternalStore } from "react";
import { getToken, setToken, subscribeToken } from "../api/token";

export function useToken(): [string, (token: string) => void] {
  const token = useSyncExternalStore(subscribeToken, getToken);
  return [token, setToken];
}
