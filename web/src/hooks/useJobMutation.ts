/** A mutation that answers a job (submit, import, sweep, cancel): the job, or null and the server's error. */
import { useCallback } from "react";
import { useMutation, type AnyVariables, type CombinedError, type TypedDocumentNode } from "urql";
import type { JobSummary } from "./jobFields";

export interface JobAnswer {
  /** Null when the mutation failed (its root field is null beside the error). */
  job: JobSummary | null;
  error: CombinedError | null;
}

/** `send(variables)` runs the mutation and reads the job from root field `field`; job lists refresh after it. */
export function useJobMutation<Data extends { [P in K]?: JobSummary | null }, Variables extends AnyVariables, K extends keyof Data & string>(
  document: TypedDocumentNode<Data, Variables>,
  field: K,
) {
  const [state, run] = useMutation<Data, Variables>(document);
  const send = useCallback(
    async (variables: Variables): Promise<JobAnswer> => {
      const r = await run(variables, { additionalTypenames: ["Job"] });
      return { job: r.data?.[field] ?? null, error: r.error ?? null };
    },
    [run, field],
  );
  return { send, sending: state.fetching, error: state.error };
}
