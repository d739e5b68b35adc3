/** Submit a sweep (several SAEs on one dataset); returns the new pipeline job or the server's validation error. */
import { useCallback } from "react";
import { graphql } from "../gql";
import { useJobMutation } from "./useJobMutation";
import type { SweepSubmission } from "../lib/sweepForm";

export const SubmitSweepMutation = graphql(`
  mutation SubmitSweep($input: SweepInput!) {
    submitSweep(input: $input) {
      ...JobFields
    }
  }
`);

export function useSubmitSweep() {
  const { send, sending } = useJobMutation(SubmitSweepMutation, "submitSweep");
  const submit = useCallback((s: SweepSubmission) => send({ input: s }), [send]);
  return { submit, submitting: sending };
}
