/** Submit a sweep (several SAEs on one dataset); returns the new pipeline job or the server's validation error. */
import { useCallback } from "react";
import { useMutation } from "urql";
import { graphql } from "../gql";
import type { SweepSubmission } from "../lib/sweepForm";

export const SubmitSweepMutation = graphql(`
  mutation SubmitSweep($input: SweepInput!) {
    submitSweep(input: $input) {
      ...JobFields
    }
  }
`);

export function useSubmitSweep() {
  const [state, run] = useMutation(SubmitSweepMutation);
  const submit = useCallback(
    async (s: SweepSubmission) => {
      const r = await run({ input: s }, { additionalTypenames: ["Job"] });
      return { job: r.data?.submitSweep ?? null, error: r.error ?? null };
    },
    [run],
  );
  return { submit, submitting: state.fetching };
}
