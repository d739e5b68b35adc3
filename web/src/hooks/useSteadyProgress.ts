/**
 * A progress value that never moves backwards for the same job attempt. Live events and re-read rows can
 * arrive out of order (a pipeline's progress is derived from its stages' rows), which would make the bar jitter
 * back; a new attempt (retry) or a different job starts afresh.
 */
import { useRef } from "react";

export function steadyProgress(prev: { key: string; value: number } | null, key: string, value: number): { key: string; value: number } {
  if (!prev || prev.key !== key) return { key, value };
  return { key, value: Math.max(prev.value, value) };
}

export function useSteadyProgress(key: string, value: number): number {
  const ref = useRef<{ key: string; value: number } | null>(null);
  ref.current = steadyProgress(ref.current, key, value);
  return ref.current.value;
}
