/** Add and edit your own explanations of a feature (token required); the feature page refetches after each. */
import { useMutation } from "urql";
import { graphql } from "../gql";

export const AddExplanationMutation = graphql(`
  mutation AddExplanation($runId: ID!, $index: Int!, $text: String!, $description: String) {
    addExplanation(runId: $runId, index: $index, text: $text, description: $description) {
      id
      text
    }
  }
`);

export const EditExplanationMutation = graphql(`
  mutation EditExplanation($id: ID!, $text: String!, $description: String) {
    editExplanation(id: $id, text: $text, description: $description) {
      id
      text
    }
  }
`);

const REFRESH = { additionalTypenames: ["Feature", "Explanation"] };

export function useExplanationEdits() {
  const [added, add] = useMutation(AddExplanationMutation);
  const [edited, edit] = useMutation(EditExplanationMutation);
  return {
    saving: added.fetching || edited.fetching,
    add: (runId: string, index: number, text: string, description: string | null) => add({ runId, index, text, description }, REFRESH),
    edit: (id: string, text: string, description: string | null) => edit({ id, text, description }, REFRESH),
  };
}
