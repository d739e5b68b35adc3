/** One query's answer with the state every page shows around it: first load, error, retry (the useFeature.ts pattern). */
import { useCallback } from "react";
import { useQuery, type AnyVariables, type UseQueryArgs } from "urql";

export interface QueryStatus {
  /** Loading with nothing to show yet (a refetch keeps the previous answer on screen). */
  fetching: boolean;
  error: ReturnType<typeof useQuery>[0]["error"];
  /** Ask the server again, past the cache. */
  retry: () => void;
}

export function useQueryState<Data, Variables extends AnyVariables>(args: UseQueryArgs<Variables, Data>) {
  const [result, reexecute] = useQuery<Data, Variables>(args);
  const retry = useCallback(() => reexecute({ requestPolicy: "network-only" }), [reexecute]);
  const status: QueryStatus = { fetching: result.fetching && !result.data, error: result.error, retry };
  return { data: result.data, status, result, reexecute };
}

/**
 * A live query that runs only while `active` (a typed prompt, a chosen feature and text, a steering request): its
 * data, loading flag and error belong to the current inputs and are empty while it is paused; answers come from the
 * cache first and `retry` asks again past it. The prompt, search, trace, steering and attribution hooks share it.
 */
export function useLiveQuery<Data, Variables extends AnyVariables>(args: UseQueryArgs<Variables, Data>, active: boolean) {
  const [result, reexecute] = useQuery<Data, Variables>({ requestPolicy: "cache-first", ...args, pause: !active });
  const retry = useCallback(() => reexecute({ requestPolicy: "network-only" }), [reexecute]);
  return {
    data: active ? result.data : undefined,
    fetching: active && result.fetching,
    error: active ? result.error : undefined,
    retry,
  };
}

/**
 * A nullable lookup (run, job, feature) the server answered as absent: null without an error. Every root field is
 * nullable, so a null that comes with an error is a failure (show the error), never "not found".
 */
export function isAbsent(answered: boolean, value: unknown, error: unknown): boolean {
  return answered && value === null && !error;
}
