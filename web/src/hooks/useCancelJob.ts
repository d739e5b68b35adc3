/** Cancel a queued or running job. */
import { graphql } from "../gql";
import { useJobMutation } from "./useJobMutation";

export const CancelJobMutation = graphql(`
  mutation CancelJob($id: ID!) {
    cancelJob(id: $id) {
      ...JobFields
    }
  }
`);

export function useCancelJob() {
  const { send, sending, error } = useJobMutation(CancelJobMutation, "cancelJob");
  return { cancelling: sending, error, cancel: (id: string) => send({ id }) };
}
