/** Cancel a queued or running job. */
import { useMutation } from "urql";
import { graphql } from "../gql";

export const CancelJobMutation = graphql(`
  mutation CancelJob($id: ID!) {
    cancelJob(id: $id) {
      ...JobFields
    }
  }
`);

export function useCancelJob() {
  const [state, run] = useMutation(CancelJobMutation);
  return { cancelling: state.fetching, error: state.error, cancel: (id: string) => run({ id }) };
}
